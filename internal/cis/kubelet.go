package cis

import (
	"encoding/json"
	"fmt"

	"sigs.k8s.io/yaml"
)

// KubeletConfig holds the KubeletConfiguration (kubelet.config.k8s.io/v1beta1)
// fields the 4.2 items read. It is decoded from a config file or from the
// kubelet's /configz; Default fills what a file leaves out as the kubelet
// does, so both read the same.
type KubeletConfig struct {
	Authentication struct {
		Anonymous struct {
			Enabled *bool `json:"enabled"`
		} `json:"anonymous"`
		Webhook struct {
			Enabled *bool `json:"enabled"`
		} `json:"webhook"`
		X509 struct {
			ClientCAFile string `json:"clientCAFile"`
		} `json:"x509"`
	} `json:"authentication"`
	Authorization struct {
		Mode string `json:"mode"`
	} `json:"authorization"`
	ReadOnlyPort                   *int32          `json:"readOnlyPort"`
	StreamingConnectionIdleTimeout string          `json:"streamingConnectionIdleTimeout"`
	MakeIPTablesUtilChains         *bool           `json:"makeIPTablesUtilChains"`
	EventRecordQPS                 *int32          `json:"eventRecordQPS"`
	TLSCertFile                    string          `json:"tlsCertFile"`
	TLSPrivateKeyFile              string          `json:"tlsPrivateKeyFile"`
	TLSCipherSuites                []string        `json:"tlsCipherSuites"`
	ServerTLSBootstrap             bool            `json:"serverTLSBootstrap"`
	RotateCertificates             bool            `json:"rotateCertificates"`
	FeatureGates                   map[string]bool `json:"featureGates"`
	PodPidsLimit                   *int64          `json:"podPidsLimit"`
}

// ParseKubeletConfig decodes a KubeletConfiguration (YAML or JSON) and
// fills the kubelet's v1beta1 defaults for what it leaves out.
func ParseKubeletConfig(data []byte) (*KubeletConfig, error) {
	c := &KubeletConfig{}
	if err := yaml.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("KubeletConfiguration: %w", err)
	}
	c.Default()
	return c, nil
}

// ParseConfigz decodes the kubelet's /configz answer ({"kubeletconfig": ...}).
func ParseConfigz(data []byte) (*KubeletConfig, error) {
	var w struct {
		KubeletConfig json.RawMessage `json:"kubeletconfig"`
	}
	if err := json.Unmarshal(data, &w); err != nil || len(w.KubeletConfig) == 0 {
		return nil, fmt.Errorf("configz: not a {\"kubeletconfig\": ...} object (%v)", err)
	}
	return ParseKubeletConfig(w.KubeletConfig)
}

// Default applies the v1beta1 defaults of the fields above
// (k8s.io/kubernetes/pkg/kubelet/apis/config/v1beta1/defaults.go).
func (c *KubeletConfig) Default() {
	f, t := false, true
	if c.Authentication.Anonymous.Enabled == nil {
		c.Authentication.Anonymous.Enabled = &f
	}
	if c.Authentication.Webhook.Enabled == nil {
		c.Authentication.Webhook.Enabled = &t
	}
	if c.Authorization.Mode == "" {
		c.Authorization.Mode = "Webhook"
	}
	if c.ReadOnlyPort == nil {
		c.ReadOnlyPort = new(int32)
	}
	if c.StreamingConnectionIdleTimeout == "" {
		c.StreamingConnectionIdleTimeout = "4h0m0s"
	}
	if c.MakeIPTablesUtilChains == nil {
		c.MakeIPTablesUtilChains = &t
	}
	if c.EventRecordQPS == nil {
		q := int32(50)
		c.EventRecordQPS = &q
	}
	if c.PodPidsLimit == nil {
		l := int64(-1)
		c.PodPidsLimit = &l
	}
}
