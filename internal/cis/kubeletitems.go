package cis

import (
	"fmt"
	"time"
)

func kubeletItem(id, title string, check func(*KubeletConfig, map[string]string) (Result, string)) Item {
	return Item{ID: id, Title: title, Source: Kubelet, check: func(in *Inputs) (Result, string) { return check(in.Kubelet, in.KubeletFlags) }}
}

func kubeletItems() []Item {
	return []Item{
		kubeletItem("4.2.1", "--anonymous-auth is false", func(k *KubeletConfig, _ map[string]string) (Result, string) {
			return passIf(!*k.Authentication.Anonymous.Enabled, "authentication.anonymous.enabled: false", "anonymous requests are served")
		}),
		kubeletItem("4.2.2", "--authorization-mode is not AlwaysAllow", func(k *KubeletConfig, _ map[string]string) (Result, string) {
			return passIf(k.Authorization.Mode != "AlwaysAllow", "authorization.mode: "+k.Authorization.Mode, "authorization.mode: AlwaysAllow")
		}),
		kubeletItem("4.2.3", "--client-ca-file is set", func(k *KubeletConfig, _ map[string]string) (Result, string) {
			return passIf(k.Authentication.X509.ClientCAFile != "", "authentication.x509.clientCAFile: the cluster CA", "no client CA")
		}),
		kubeletItem("4.2.4", "--read-only-port is 0", func(k *KubeletConfig, _ map[string]string) (Result, string) {
			return passIf(*k.ReadOnlyPort == 0, "readOnlyPort: 0", fmt.Sprintf("readOnlyPort: %d", *k.ReadOnlyPort))
		}),
		kubeletItem("4.2.5", "--streaming-connection-idle-timeout is not 0", func(k *KubeletConfig, _ map[string]string) (Result, string) {
			d, err := time.ParseDuration(k.StreamingConnectionIdleTimeout)
			return passIf(err == nil && d > 0, "streamingConnectionIdleTimeout: "+d.String(), "streamingConnectionIdleTimeout: "+k.StreamingConnectionIdleTimeout)
		}),
		kubeletItem("4.2.6", "--make-iptables-util-chains is true", func(k *KubeletConfig, _ map[string]string) (Result, string) {
			return passIf(*k.MakeIPTablesUtilChains, "makeIPTablesUtilChains: true", "makeIPTablesUtilChains: false")
		}),
		kubeletItem("4.2.7", "--hostname-override is not set", func(_ *KubeletConfig, flags map[string]string) (Result, string) {
			v, ok := flags["hostname-override"]
			return passIf(!ok, "not set", "--hostname-override="+v+": the Node name must be the configuration's node.name (certificates and the kubelet kubeconfig are issued for it); drop the flag when the host name already is that name")
		}),
		kubeletItem("4.2.8", "eventRecordQPS is appropriate", func(k *KubeletConfig, _ map[string]string) (Result, string) {
			return passIf(*k.EventRecordQPS > 0, fmt.Sprintf("eventRecordQPS: %d", *k.EventRecordQPS), "eventRecordQPS: 0 (unlimited)")
		}),
		kubeletItem("4.2.9", "--tls-cert-file and --tls-private-key-file are set", func(k *KubeletConfig, _ map[string]string) (Result, string) {
			switch {
			case k.TLSCertFile != "" && k.TLSPrivateKeyFile != "":
				return Pass, "tlsCertFile and tlsPrivateKeyFile set"
			case k.ServerTLSBootstrap:
				return Pass, "serverTLSBootstrap: true: the serving certificate is issued by the cluster CA (bootstrap csr-approver) instead of a file"
			}
			return Fail, "the kubelet serves a self-signed certificate"
		}),
		kubeletItem("4.2.10", "--rotate-certificates is not false", func(k *KubeletConfig, _ map[string]string) (Result, string) {
			return passIf(k.RotateCertificates, "rotateCertificates: true", "rotateCertificates: false")
		}),
		kubeletItem("4.2.11", "RotateKubeletServerCertificate is true", func(k *KubeletConfig, _ map[string]string) (Result, string) {
			on, set := k.FeatureGates["RotateKubeletServerCertificate"]
			return passIf(k.ServerTLSBootstrap && (!set || on), "serverTLSBootstrap: true, feature gate on (default)", "serverTLSBootstrap off or the gate disabled")
		}),
		kubeletItem("4.2.12", "the kubelet only uses strong cryptographic ciphers", func(k *KubeletConfig, _ map[string]string) (Result, string) {
			return checkCiphers("tlsCipherSuites", k.TLSCipherSuites)
		}),
		kubeletItem("4.2.13", "a limit is set on pod PIDs", func(k *KubeletConfig, _ map[string]string) (Result, string) {
			return passIf(*k.PodPidsLimit > 0, fmt.Sprintf("podPidsLimit: %d", *k.PodPidsLimit), "podPidsLimit unset (-1: unlimited)")
		}),
	}
}
