package assets

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
)

// Where kube-apiserver writes its audit log on the node (a hostPath volume),
// and how it rotates it: 100 MB files, 10 of them, 30 days.
const (
	auditLogDir   = "/var/log/kubernetes/audit"
	auditLogFile  = auditLogDir + "/audit.log"
	auditPolicyCM = "audit-policy.yaml"
)

// auditPolicy records who did what to which object for every request, at
// Metadata level: never a request or response body, so Secrets, ConfigMaps
// and TokenReviews never put their content (credentials) into the log. The
// health checks, events and the lease renewals of the node and control-plane
// components, a few requests a second that say nothing, are not logged.
func auditPolicy() *auditv1.Policy {
	system := []string{ControllerManagerUser, SchedulerUser, KubeProxyUser}
	leases := []auditv1.GroupResources{{Group: "coordination.k8s.io", Resources: []string{"leases"}}}
	return &auditv1.Policy{
		TypeMeta:   metav1.TypeMeta{APIVersion: auditv1.SchemeGroupVersion.String(), Kind: "Policy"},
		OmitStages: []auditv1.Stage{auditv1.StageRequestReceived},
		Rules: []auditv1.PolicyRule{
			{Level: auditv1.LevelNone, NonResourceURLs: []string{"/healthz*", "/readyz*", "/livez*", "/version"}},
			{Level: auditv1.LevelNone, Resources: []auditv1.GroupResources{{Group: "", Resources: []string{"events"}}, {Group: "events.k8s.io", Resources: []string{"events"}}}},
			// Users and userGroups of one rule must both match: two rules.
			{Level: auditv1.LevelNone, Verbs: []string{"get", "update"}, Users: system, Resources: leases},
			{Level: auditv1.LevelNone, Verbs: []string{"get", "update"}, UserGroups: []string{NodesGroup}, Resources: leases},
			{Level: auditv1.LevelNone, Verbs: []string{"watch"}, Users: []string{KubeProxyUser},
				Resources: []auditv1.GroupResources{{Group: "", Resources: []string{"endpoints", "services", "nodes"}}, {Group: "discovery.k8s.io", Resources: []string{"endpointslices"}}}},
			// Explicit, so that a rule added above can never raise them.
			{Level: auditv1.LevelMetadata, Resources: []auditv1.GroupResources{
				{Group: "", Resources: []string{"secrets", "configmaps", "serviceaccounts/token"}},
				{Group: "authentication.k8s.io", Resources: []string{"tokenreviews"}},
			}},
			{Level: auditv1.LevelMetadata},
		},
	}
}

// auditFlags turn the audit log on: the policy from the kube-apiserver
// ConfigMap, the log on the node with rotation.
func auditFlags() map[string]string {
	return map[string]string{
		"audit-policy-file":   configMountPath + "/" + auditPolicyCM,
		"audit-log-path":      auditLogFile,
		"audit-log-maxage":    "30",
		"audit-log-maxbackup": "10",
		"audit-log-maxsize":   "100",
	}
}

// tlsFlags restrict a secure port to TLS 1.2+ with ECDHE+AEAD suites
// (docs/design.md, "Audit log and TLS").
func tlsFlags() map[string]string {
	return map[string]string{
		"tls-min-version":   v1alpha1.MinTLSVersion,
		"tls-cipher-suites": strings.Join(v1alpha1.TLSCipherSuites, ","),
	}
}

// withFlags adds every flag of more to base.
func withFlags(base map[string]string, more ...map[string]string) map[string]string {
	for _, m := range more {
		for k, v := range m {
			base[k] = v
		}
	}
	return base
}
