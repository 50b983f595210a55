// Command coredns is CoreDNS for the e2e harness' image, with the plugins
// bootstrap's Corefile (manifests/Corefile.tmpl) uses and the common ones a
// user adds to it, instead of upstream's full list: that list pulls in the
// cloud providers' SDKs (azure, clouddns, route53), which were most of this
// build's cold cost and module downloads. build-binaries.sh checks that every
// directive of the Corefile is in the binary (`coredns -plugins`).
package main

import (
	"github.com/coredns/coredns/coremain"

	// The Corefile's plugins.
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics" // the prometheus directive
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"

	// What users commonly add to a cluster's Corefile.
	_ "github.com/coredns/coredns/plugin/autopath"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/debug"
	_ "github.com/coredns/coredns/plugin/file"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/k8s_external"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/rewrite"
	_ "github.com/coredns/coredns/plugin/template"
	_ "github.com/coredns/coredns/plugin/whoami"
)

func main() { coremain.Run() }
