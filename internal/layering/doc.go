// Package layering holds only a test: that the module's packages depend on
// each other in one direction,
//
//	cmd, pkg/cli  →  flows (pkg/start, pkg/recovery, pkg/guard, ...)  →  building blocks  →  pkg/apis
//
// so that a flow can be called by another flow or a node agent without the
// command tree, and a building block by every flow. The e2e harness
// (e2e/...) may use anything.
package layering
