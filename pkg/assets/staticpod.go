package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// staticPod is a pod for the kubelet's staticPodPath with a UID of its own,
// derived from its content. Without one the kubelet derives the UID from
// the pod as IT defaults it, and defaults change between kubelet minors: a
// kubelet upgrade then saw a "new" etcd pod, stopped the running member and
// started it again — a write outage of a single-member cluster in the middle
// of an upgrade (seen in the upgrade e2e). A changed manifest still gets a
// new UID, so the kubelet still replaces the pod when its content changes.
func staticPod(name string, labels map[string]string, spec corev1.PodSpec) *corev1.Pod {
	p := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: KubeSystem, Labels: labels},
		Spec:       spec,
	}
	SetContentUID(p)
	return p
}

// SetContentUID gives a static pod the UID derived from its content (see
// staticPod), for static pods made outside this package (bootstrap pivot's,
// derived from the live pod templates). Any UID it had is replaced.
func SetContentUID(p *corev1.Pod) {
	p.UID = ""
	data, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Sprintf("encoding the static pod %s: %v", p.Name, err)) // a typed pod always encodes
	}
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:16])
	p.UID = types.UID(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32])
}
