// Package poddiag describes pods that are not ready, in words an operator
// can act on: container states, restarts, last termination messages, recent
// events and the likely cause (not scheduled, image missing, crash loop, a
// missing Secret, a failing readiness probe).
//
//	fmt.Println(poddiag.NotReady(ctx, cs, "kube-system")) // what start prints on a timeout
//	log.Printf("pod %s: %s", p.Name, poddiag.Summary(p))  // one line, for waits and logs
//	if poddiag.Ready(p) { ... }
package poddiag
