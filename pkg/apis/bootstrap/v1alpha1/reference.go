package v1alpha1

import (
	"regexp"
	"strings"
)

// The grammar of container image references, as in
// github.com/distribution/reference (not a dependency of this module; the
// grammar is small and stable). A name is [domain[:port]/]path, the path
// lowercase; a tag is at most 128 word characters; a digest is algo:hex.
var (
	refAlnum     = `[a-z0-9]+`
	refSeparator = `(?:[._]|__|[-]+)`
	refPathComp  = refAlnum + `(?:` + refSeparator + refAlnum + `)*`
	refDomainCmp = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	refDomain    = `(?:` + refDomainCmp + `(?:\.` + refDomainCmp + `)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?`
	refName      = `(?:` + refDomain + `/)?` + refPathComp + `(?:/` + refPathComp + `)*`
	refTag       = `[\w][\w.-]{0,127}`
	refDigest    = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`

	referenceRE = regexp.MustCompile(`^(` + refName + `)(?::` + refTag + `)?(?:@` + refDigest + `)?$`)
	nameRE      = regexp.MustCompile(`^` + refName + `$`)
)

// nameMaxLength is the registry's limit on a repository name.
const nameMaxLength = 255

// validImageReference reports whether s is a complete image reference such as
// registry.k8s.io/kube-apiserver:v1.37.2 or a name with a digest.
func validImageReference(s string) bool {
	m := referenceRE.FindStringSubmatch(s)
	return m != nil && len(m[1]) <= nameMaxLength
}

// validImageRepository reports whether images can be named <s>/<component>:
// a registry host with an optional port and path, without tag or digest.
func validImageRepository(s string) bool {
	s = strings.TrimSuffix(s, "/")
	return s != "" && nameRE.MatchString(s+"/kube-apiserver") && len(s) < nameMaxLength-len("/kube-controller-manager")
}
