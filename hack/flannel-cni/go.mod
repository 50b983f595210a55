// Module used only to build the flannel CNI plugin for the e2e nodes: the
// plugin that reads flanneld's subnet.env and delegates to bridge +
// host-local. It lived in containernetworking/plugins (plugins/meta/flannel)
// until v0.9.1, then moved to flannel-io/cni-plugin, whose module this build
// cannot obtain; the code is the same plugin.
module github.com/bootstrap-k8s/bootstrap/hack/flannel-cni

go 1.26.0

require github.com/containernetworking/plugins v0.9.1

require (
	github.com/Microsoft/go-winio v0.4.11 // indirect
	github.com/Microsoft/hcsshim v0.8.6 // indirect
	github.com/buger/jsonparser v0.0.0-20180808090653-f4dd9f5a6b44 // indirect
	github.com/containernetworking/cni v0.8.1 // indirect
	github.com/sirupsen/logrus v1.0.6 // indirect
	golang.org/x/crypto v0.0.0-20200622213623-75b288015ac9 // indirect
	golang.org/x/sys v0.0.0-20201117170446-d9b008d0a637 // indirect
)
