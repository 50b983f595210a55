// Package portcheck says whether a TCP address is free to listen on, with a
// message that names the setting and how to find the process in the way.
//
//	if err := portcheck.Free(adv, 6443, "apiServer.bindPort"); err != nil {
//		return err // "10.0.0.2:6443 is in use by another process (apiServer.bindPort): ..."
//	}
//
// Holder names the process in the way, for callers that bind with
// SO_REUSEPORT and must not silently share a port:
//
//	if who := portcheck.Holder(host, port); who != "" { // "kube-apiserver (pid 1234)"
//		return fmt.Errorf("%s:%d is held by %s", host, port, who)
//	}
package portcheck
