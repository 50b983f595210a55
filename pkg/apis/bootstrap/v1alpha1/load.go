package v1alpha1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// InvalidError is every problem found in one configuration: decoding and
// validation errors together, each with its field path. The CLI maps it to
// exit code 3 (see IsInvalid).
type InvalidError struct {
	// Source names where the configuration came from (a file path, "flags").
	Source string
	Errs   field.ErrorList
}

// Error lists one error per line as "<source>: <field path>: <message>" and
// ends with a hint, so the CLI can print it as is.
func (e *InvalidError) Error() string {
	var b strings.Builder
	prefix := ""
	if e.Source != "" {
		prefix = e.Source + ": "
	}
	fmt.Fprintf(&b, "%sinvalid configuration (%d error", prefix, len(e.Errs))
	if len(e.Errs) != 1 {
		b.WriteByte('s')
	}
	b.WriteString("):\n")
	for _, fe := range e.Errs {
		b.WriteString(prefix)
		if fe.Field == "" {
			// About the file as a whole: "Invalid value" would say nothing.
			b.WriteString(fe.Detail + "\n")
			continue
		}
		b.WriteString(fe.Field + ": " + fe.ErrorBody() + "\n")
	}
	b.WriteString("hint: `bootstrap config print-defaults` prints every field with its default")
	return b.String()
}

// IsInvalid reports whether err is (or wraps) an *InvalidError.
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}

// Override changes a decoded configuration before it is defaulted: this is
// how command-line flags take precedence over the file. Overrides run before
// SetDefaults so that derived defaults (externalURL from the advertise
// address, image names from the version) follow the overridden values.
// Errors about a field an override changed say "(overridden on the command
// line)", since the file's value is not the one at fault.
type Override func(*BootstrapConfiguration)

// Load reads, strictly decodes, overrides, defaults and validates the
// configuration file at path. Every problem is returned in one *InvalidError.
func Load(path string, overrides ...Override) (*BootstrapConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	return LoadBytes(data, path, overrides...)
}

// LoadBytes is Load for data read elsewhere; source names it in errors.
func LoadBytes(data []byte, source string, overrides ...Override) (*BootstrapConfiguration, error) {
	c, err := Decode(data)
	var decodeErrs field.ErrorList
	if err != nil {
		var ie *InvalidError
		if !errors.As(err, &ie) {
			return nil, err
		}
		if c == nil {
			return nil, &InvalidError{Source: source, Errs: ie.Errs}
		}
		decodeErrs = ie.Errs
	}
	forgetDerivedImages(c)
	before := toMap(c)
	for _, o := range overrides {
		o(c)
	}
	overridden := diffPaths(before, toMap(c), "")
	SetDefaults(c)
	verrs := dropCovered(Validate(c), decodeErrs)
	markOverridden(verrs, overridden)
	errs := append(decodeErrs, verrs...)
	if len(errs) > 0 {
		return nil, &InvalidError{Source: source, Errs: errs}
	}
	return c, nil
}

// Complete defaults and validates a configuration built without a file
// (e.g. from flags only); source names it in errors.
func Complete(c *BootstrapConfiguration, source string) error {
	SetDefaults(c)
	if errs := Validate(c); len(errs) > 0 {
		return &InvalidError{Source: source, Errs: errs}
	}
	return nil
}

// dropCovered removes validation errors about fields that already failed to
// decode: a value of the wrong type is left empty, and "required" on top of
// "must be a string" would only be noise.
func dropCovered(errs, decodeErrs field.ErrorList) field.ErrorList {
	var out field.ErrorList
outer:
	for _, e := range errs {
		for _, d := range decodeErrs {
			if d.Field != "" && (e.Field == d.Field || strings.HasPrefix(e.Field, d.Field+".")) {
				continue outer
			}
		}
		out = append(out, e)
	}
	return out
}

// toMap is c as generic JSON, for diffPaths.
func toMap(c *BootstrapConfiguration) map[string]any {
	var m map[string]any
	if b, err := json.Marshal(c); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

// diffPaths lists the field paths where a and b differ, in field.Path syntax.
func diffPaths(a, b any, prefix string) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		if reflect.DeepEqual(a, b) {
			return nil
		}
		return []string{prefix}
	}
	var out []string
	keys := map[string]bool{}
	for k := range am {
		keys[k] = true
	}
	for k := range bm {
		keys[k] = true
	}
	for k := range keys {
		p := k
		switch {
		case strings.HasSuffix(prefix, "extraArgs"):
			p = prefix + "[" + k + "]"
		case prefix != "":
			p = prefix + "." + k
		}
		out = append(out, diffPaths(am[k], bm[k], p)...)
	}
	return out
}

func markOverridden(errs field.ErrorList, paths []string) {
	for _, e := range errs {
		for _, p := range paths {
			if e.Field == p || strings.HasPrefix(e.Field, p+".") || strings.HasPrefix(e.Field, p+"[") {
				e.Detail += " (overridden on the command line)"
				break
			}
		}
	}
}

// Default returns the configuration an empty file would give: every default
// filled in, except apiServer.advertiseAddress (and the externalURL derived
// from it), which has none. It is not valid until an advertise address is set.
func Default() *BootstrapConfiguration {
	c := &BootstrapConfiguration{}
	SetDefaults(c)
	return c
}

// Marshal renders c as YAML that Decode reads back: apiVersion and kind
// first, then the fields in the order the types declare them (sigs.k8s.io/yaml
// would sort them alphabetically, burying apiVersion).
func Marshal(c *BootstrapConfiguration) ([]byte, error) {
	return marshal(c, nil)
}

// marshal is Marshal with a last edit of the document's root mapping.
func marshal(c *BootstrapConfiguration, edit func(root *yaml.Node)) ([]byte, error) {
	out := *c
	out.APIVersion, out.Kind = APIVersion, Kind
	j, err := json.Marshal(&out)
	if err != nil {
		return nil, err
	}
	// JSON is YAML: parsing it keeps the key order; the styles are then reset
	// so that the encoder writes block YAML and quotes only where needed.
	var doc yaml.Node
	if err := yaml.Unmarshal(j, &doc); err != nil {
		return nil, err
	}
	plain(&doc)
	root := doc.Content[0]
	root.Content = typeMetaFirst(root.Content)
	placeholders(root, c)
	if edit != nil {
		edit(root)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// placeholders shows the fields without a static default when they are
// empty (as in `bootstrap config print-defaults`), so that the output
// names the one required field instead of leaving it out. An empty string
// decodes like an absent field.
func placeholders(root *yaml.Node, c *BootstrapConfiguration) {
	api := mappingValue(root, "apiServer")
	if api == nil || api.Kind != yaml.MappingNode {
		return
	}
	if c.APIServer.ExternalURL == "" {
		api.Content = append(api.Content, scalarPair("externalURL", "default: https://<advertiseAddress>:<bindPort>")...)
	}
	if c.APIServer.AdvertiseAddress == "" {
		api.Content = append(scalarPair("advertiseAddress", "required: the IP address of this node"), api.Content...)
	}
}

func scalarPair(key, comment string) []*yaml.Node {
	return []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "", LineComment: "# " + comment},
	}
}

func plain(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plain(c)
	}
}

// typeMetaFirst moves the apiVersion and kind pairs of a mapping to its front.
func typeMetaFirst(kv []*yaml.Node) []*yaml.Node {
	var head, rest []*yaml.Node
	for _, key := range []string{"apiVersion", "kind"} {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i].Value == key {
				head = append(head, kv[i], kv[i+1])
			}
		}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i].Value != "apiVersion" && kv[i].Value != "kind" {
			rest = append(rest, kv[i], kv[i+1])
		}
	}
	return append(head, rest...)
}
