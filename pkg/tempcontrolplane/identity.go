package tempcontrolplane

import "k8s.io/apimachinery/pkg/version"

// TemporaryGitCommit is the gitCommit the temporary apiserver reports in
// /version. It is how `bootstrap start` tells which apiserver answered a
// connection to the port both share during the hand-over.
const TemporaryGitCommit = "bootstrap-temporary-apiserver"

// IsTemporary reports whether /version came from a temporary apiserver.
func IsTemporary(info *version.Info) bool { return info != nil && info.GitCommit == TemporaryGitCommit }
