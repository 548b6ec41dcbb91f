package main

import (
	"strings"

	"github.com/kenv/kenv/adapter"
)

// parseEnvFlags parses repeated --env values. NAME=VALUE sets a variable;
// a bare NAME copies it from kenv's own environment, as docker's --env does,
// so that a secret need not appear on the command line. Errors name the
// variable but never print its value.
func parseEnvFlags(op string, values []string, getenv func(string) (string, bool)) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	env := make(map[string]string, len(values))
	for _, kv := range values {
		name, value, hasValue := strings.Cut(kv, "=")
		if name == "" {
			return nil, flagError(op, "env", "invalid --env value: the variable name before '=' is empty; use NAME=VALUE")
		}
		if !hasValue {
			v, ok := getenv(name)
			if !ok {
				return nil, flagError(op, "env", "--env %s copies %s from kenv's environment, but it is not set there; set it, or pass %s=VALUE", name, name, name)
			}
			value = v
		}
		if _, dup := env[name]; dup {
			return nil, flagError(op, "env", "--env %s is given twice; give each variable once", name)
		}
		env[name] = value
	}
	return env, nil
}

// parseLabelFlags parses repeated --label KEY=VALUE values. The adapter
// checks the keys themselves, including kenv's reserved "kenv." prefix.
func parseLabelFlags(op string, values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	labels := make(map[string]string, len(values))
	for _, kv := range values {
		key, value, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			return nil, flagError(op, "label", "invalid --label %q: missing '='; use KEY=VALUE, or KEY= for an empty value", kv)
		case key == "":
			return nil, flagError(op, "label", "invalid --label %q: the key before '=' is empty; use KEY=VALUE", kv)
		}
		if _, dup := labels[key]; dup {
			return nil, flagError(op, "label", "--label %s is given twice; give each key once", key)
		}
		labels[key] = value
	}
	return labels, nil
}

// splitMountSpec splits SOURCE:TARGET or SOURCE:TARGET:ro|rw, the form of
// --volume and --mount. Neither part may contain ':'. The adapter validates
// the parts themselves (volume names, absolute paths).
func splitMountSpec(op, flag, form, spec string) (source, target string, readOnly bool, err error) {
	parts := strings.Split(spec, ":")
	switch {
	case len(parts) < 2:
		return "", "", false, flagError(op, flag, "invalid --%s %q: missing ':'; use %s or %s:ro", flag, spec, form, form)
	case len(parts) > 3:
		return "", "", false, flagError(op, flag, "invalid --%s %q: too many ':'; use %s or %s:ro, with no ':' inside either path", flag, spec, form, form)
	case parts[0] == "":
		return "", "", false, flagError(op, flag, "invalid --%s %q: the part before ':' is empty; use %s", flag, spec, form)
	case parts[1] == "":
		return "", "", false, flagError(op, flag, "invalid --%s %q: the target path is empty; use %s", flag, spec, form)
	}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			readOnly = true
		case "rw":
		default:
			return "", "", false, flagError(op, flag, "invalid --%s %q: unknown mode %q; use ro for read-only or rw for read-write", flag, spec, parts[2])
		}
	}
	return parts[0], parts[1], readOnly, nil
}

// parseVolumeFlags parses repeated --volume NAME:/path[:ro] values.
func parseVolumeFlags(op string, values []string) ([]adapter.VolumeMount, error) {
	var out []adapter.VolumeMount
	for _, v := range values {
		name, target, ro, err := splitMountSpec(op, "volume", "NAME:/path", v)
		if err != nil {
			return nil, err
		}
		out = append(out, adapter.VolumeMount{Name: name, Target: target, ReadOnly: ro})
	}
	return out, nil
}

// parseMountFlags parses repeated --mount /host/path:/path[:ro] values.
func parseMountFlags(op string, values []string) ([]adapter.BindMount, error) {
	var out []adapter.BindMount
	for _, v := range values {
		source, target, ro, err := splitMountSpec(op, "mount", "/host/path:/path", v)
		if err != nil {
			return nil, err
		}
		out = append(out, adapter.BindMount{Source: source, Target: target, ReadOnly: ro})
	}
	return out, nil
}

// parseByteCount parses --max-output: a byte count with an optional k, m or
// g suffix (powers of 1024), or -1 for no limit. Empty gives 0, which makes
// the adapter use adapter.DefaultMaxOutput.
func parseByteCount(op, flag, s string) (int, error) {
	switch strings.TrimSpace(s) {
	case "":
		return 0, nil
	case "-1":
		return -1, nil
	}
	n, err := adapter.ParseMemory(s)
	if err != nil || n <= 0 {
		return 0, flagError(op, flag, "invalid --%s %q; use a positive number of bytes with an optional k, m or g suffix, such as 64k, or -1 to keep all output", flag, s)
	}
	if int64(int(n)) != n {
		return 0, flagError(op, flag, "invalid --%s %q: too large for this platform; use -1 to keep all output", flag, s)
	}
	return int(n), nil
}
