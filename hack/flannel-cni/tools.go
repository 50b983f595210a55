//go:build tools

// Package tools pins the flannel CNI plugin this module builds.
package tools

import _ "github.com/containernetworking/plugins/plugins/meta/flannel"
