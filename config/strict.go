package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// envRef is ${VAR} or ${VAR:-default}.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)

// Expand replaces ${VAR} with the variable's value and ${VAR:-default} with
// the value or, when unset or empty, the default. An unset ${VAR} is an
// error naming it and its line: an empty secret or URL would otherwise start
// a gateway that fails later, or worse, quietly (an unset cursor_secret
// falling back to the public key). Lines that are YAML comments are left alone.
func Expand(src []byte) ([]byte, error) {
	var out bytes.Buffer
	var missing []string
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 64<<10), len(src)+1)
	for line := 1; sc.Scan(); line++ {
		text := sc.Bytes()
		if !bytes.HasPrefix(bytes.TrimSpace(text), []byte("#")) {
			text = envRef.ReplaceAllFunc(text, func(m []byte) []byte {
				sub := envRef.FindSubmatch(m)
				name, def := string(sub[1]), sub[2]
				v, ok := os.LookupEnv(name)
				if def != nil && v == "" {
					return def[2:]
				}
				if !ok {
					missing = append(missing, fmt.Sprintf("line %d: ${%s}", line, name))
				}
				return []byte(v)
			})
		}
		out.Write(text)
		out.WriteByte('\n')
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("config: environment variables not set: %s (set them, or write ${NAME:-default} for an optional value)", strings.Join(missing, ", "))
	}
	return out.Bytes(), sc.Err()
}

// DecodeProvider decodes one provider block strictly into v: an unknown key
// or a bad value is an error naming its line in the file.
func DecodeProvider(n yaml.Node, key string, v any) error {
	if err := knownKeys(&n, reflect.TypeOf(v), "providers."+key); err != nil {
		return err
	}
	if err := n.Decode(v); err != nil {
		return fmt.Errorf("config: providers.%s: %w", key, err)
	}
	return nil
}

var nodeType = reflect.TypeOf(yaml.Node{})

// knownKeys does what yaml's KnownFields does for a whole file, for a node
// decoded on its own (Node.Decode has no such option), keeping the node's
// own line numbers.
func knownKeys(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if t.Kind() != reflect.Struct || t == nodeType || n.Kind != yaml.MappingNode {
		return nil
	}
	if _, custom := reflect.New(t).Interface().(yaml.Unmarshaler); custom {
		return nil
	}
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ft, ok := fields[k.Value]
		if !ok {
			known := make([]string, 0, len(fields))
			for name := range fields {
				known = append(known, name)
			}
			sort.Strings(known)
			return fmt.Errorf("config: line %d: %s: unknown key %q (known: %s)", k.Line, path, k.Value, strings.Join(known, ", "))
		}
		if err := knownKeys(n.Content[i+1], ft, path+"."+k.Value); err != nil {
			return err
		}
	}
	return nil
}

// LineOf is the line of the node at path (mapping keys, or sequence
// indexes as "0", "1"), or of the deepest node found on the way; 0 when
// the document is empty.
func LineOf(n *yaml.Node, path ...string) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if len(path) == 0 {
		return n.Line
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == path[0] {
				if len(path) == 1 {
					return n.Content[i].Line
				}
				return LineOf(n.Content[i+1], path[1:]...)
			}
		}
	case yaml.SequenceNode:
		var i int
		if _, err := fmt.Sscan(path[0], &i); err == nil && i >= 0 && i < len(n.Content) {
			return LineOf(n.Content[i], path[1:]...)
		}
	}
	return n.Line
}

// at prefixes an error about the key at path with its line.
func at(root *yaml.Node, err error, path ...string) error {
	if l := LineOf(root, path...); l > 0 {
		return fmt.Errorf("config: line %d: %s: %w", l, strings.Join(path, "."), err)
	}
	return fmt.Errorf("config: %s: %w", strings.Join(path, "."), err)
}
