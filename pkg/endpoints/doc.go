// Package endpoints builds the URLs of a cluster's components from its
// configuration, in one place, with one spelling (IPv6 hosts in brackets).
//
//	endpoints.EtcdClient(cfg)     // https://10.0.0.2:2379, the persistent member
//	endpoints.EtcdLoopbackClient(cfg) // https://127.0.0.1:2379, the same on loopback
//	endpoints.BootEtcdPeer(cfg)   // https://10.0.0.2:2382, the boot member's peer URL
//	endpoints.HTTPS("::1", 6443)  // https://[::1]:6443
package endpoints
