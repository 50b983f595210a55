// Package waitfor polls a condition until it holds and always says what it
// waits for: every ReportEvery it reports the condition's last status, and
// on timeout the error names what was awaited, for how long, and what was
// seen last. A silent wait ("unable to determine readiness") never happens.
//
//	_, err := waitfor.Until(ctx, waitfor.Options{
//		What:    "lease kube-system/kube-scheduler to be held",
//		Timeout: time.Minute,
//		Report:  func(msg string) { p.Infof("wait", "%s", msg) },
//	}, func(ctx context.Context) (bool, string, error) {
//		l, err := cs.CoordinationV1().Leases(ns).Get(ctx, name, metav1.GetOptions{})
//		if err != nil {
//			return false, "", err
//		}
//		return l.Spec.HolderIdentity != nil, "no holder", nil
//	})
package waitfor
