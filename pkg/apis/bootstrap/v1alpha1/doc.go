// Package v1alpha1 is the versioned configuration file of `bootstrap`:
// BootstrapConfiguration, its defaults (SetDefaults), its validation
// (Validate, returning every error with its field path) and strict decoding
// (Decode rejects unknown and duplicate fields).
//
//	cfg, err := v1alpha1.Load("cluster.yaml") // decode strictly, default, validate
//	if err != nil { ... }                     // a field.ErrorList wrapped in *InvalidError
package v1alpha1
