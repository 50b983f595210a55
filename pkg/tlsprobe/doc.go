// Package tlsprobe reads the certificate a TLS server presents, as a client
// sees it: what `bootstrap status` and `bootstrap certs` report as served,
// which after a renewal is the proof that the new certificate is in use.
//
//	crt, err := tlsprobe.Served(ctx, "10.0.0.2:6443", nil, 3*time.Second)
//	crt.NotAfter, crt.SerialNumber
package tlsprobe
