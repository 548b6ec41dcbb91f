package adapter

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

// Version is kenv's version, recorded on everything it creates.
const Version = "0.1.0"

// Labels kenv sets on its containers, volumes and snapshot images.
const (
	LabelManaged  = "kenv.managed"   // always "true"
	LabelEnv      = "kenv.env"       // the environment id
	LabelVersion  = "kenv.version"   // the kenv version that created it
	LabelVolume   = "kenv.volume"    // on volumes: the volume's short name
	LabelSnapshot = "kenv.snapshot"  // on snapshot images: the snapshot name
	LabelEnvNames = "kenv.env-names" // comma-separated names of EnvConfig.Env, never values
)

// managedFilter and envFilter are label selectors for the engine's --filter.
const managedFilter = LabelManaged + "=true"

func envFilter(envID string) string { return LabelEnv + "=" + envID }

// idEncoding is lowercase base32 without padding: ids are valid in container
// and volume names and read well.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a random 12-character environment id (60 bits).
func newID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return idEncoding.EncodeToString(b[:])[:12]
}

// containerName is the container name of an environment.
func containerName(envID string) string { return "kenv-" + envID }

// volumeName is the engine name of an environment's named volume.
func volumeName(envID, name string) string { return "kenv-" + envID + "-" + name }

// snapshotRepo is the repository that holds an environment's snapshots.
func snapshotRepo(envID string) string { return "kenv/" + envID }

// maxTag is the longest tag docker accepts.
const maxTag = 128

// SnapshotRef returns the image reference of an environment's snapshot:
// "kenv/<env id>:<tag>". The tag is derived from name by this rule:
//
//   - An empty name becomes "latest".
//   - A name that is already a valid lowercase tag (1 to 128 characters from
//     [a-z0-9_.-], not starting with '.' or '-') is used as it is.
//   - Any other name is lowercased, every character outside [a-z0-9_.-]
//     becomes '-', leading '.' and '-' are dropped, the result is cut to
//     115 characters, and "-" plus the first 12 hex digits of the SHA-256 of
//     the original name are appended.
//
// So the same environment and name always give the same reference, two
// names that differ only in case or punctuation give different ones, and the
// tag never exceeds 128 characters.
func SnapshotRef(envID, name string) string {
	return snapshotRepo(envID) + ":" + snapshotTag(name)
}

func snapshotTag(name string) string {
	if name == "" {
		return "latest"
	}
	if snapshotNamePattern.MatchString(name) {
		return name
	}

	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	base := strings.TrimLeft(b.String(), ".-")

	sum := sha256.Sum256([]byte(name))
	suffix := hex.EncodeToString(sum[:])[:12]
	const keep = maxTag - 1 - 12
	if len(base) > keep {
		base = base[:keep]
	}
	if base == "" {
		return suffix
	}
	return base + "-" + suffix
}
