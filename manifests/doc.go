// Package manifests embeds the non-Go text that rendered manifests carry:
// configuration files of the self-hosted components, as templates. The
// objects themselves are typed k8s.io/api structs built in pkg/assets.
package manifests

import (
	"bytes"
	_ "embed"
	"text/template"
)

//go:embed Corefile.tmpl
var corefile string

// Corefile is CoreDNS's configuration for a cluster DNS domain.
func Corefile(dnsDomain string) (string, error) {
	return execute(corefile, map[string]string{"DNSDomain": dnsDomain})
}

func execute(text string, data any) (string, error) {
	t, err := template.New("").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}
