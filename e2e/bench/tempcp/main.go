// Command tempcp measures the temporary control plane as a process: start to
// first authenticated request, peak RSS and binary size. Its "serve" mode is
// exactly cmd/bootstrap's command tree, so the figures are the real binary's.
//
//	go build -trimpath -ldflags "-s -w" -o /tmp/tempcp-bench ./e2e/bench/tempcp
//	/tmp/tempcp-bench measure --runs 5 --address 192.0.2.2
//
// measure renders an asset dir, then per run starts `<self> serve
// temp-control-plane` with a fresh etcd data dir, polls
// GET /api/v1/namespaces/kube-system with the admin client certificate until
// it answers 200, runs a small workload (100 ConfigMaps, a list, a watch) and
// reads the child's peak RSS (VmHWM) before stopping it with SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/cli"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		root := cli.NewRootCommand(os.Stdout, os.Stderr)
		root.SetArgs(os.Args[2:])
		if err := root.Execute(); err != nil {
			fmt.Fprintf(os.Stderr, "error: %v\n", err)
			os.Exit(cli.ExitCode(err))
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "measure" {
		if err := measure(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintln(os.Stderr, "usage: bench serve <bootstrap args> | bench measure [--runs N] [--address IP]")
	os.Exit(2)
}

func freePort() int32 {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

func measure(args []string) error {
	fs := flag.NewFlagSet("measure", flag.ContinueOnError)
	runs := fs.Int("runs", 5, "number of runs")
	addr := fs.String("address", "", "non-loopback IP of this machine to advertise (required by the configuration)")
	verbose := fs.Bool("v", false, "run the server with -v 1 and print its phase timings")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *addr == "" {
		return fmt.Errorf("--address is required")
	}
	work, err := os.MkdirTemp("", "tempcp-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	c := &v1alpha1.BootstrapConfiguration{}
	c.APIServer.AdvertiseAddress = *addr
	c.APIServer.BindPort = freePort()
	c.Node.Name = "bench"
	c.Etcd.Local = &v1alpha1.LocalEtcd{BootClientPort: freePort(), BootPeerPort: freePort()}
	v1alpha1.SetDefaults(c)
	dir := filepath.Join(work, "assets")
	if _, err := assets.Render(c, dir, assets.Options{}); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if st, err := os.Stat(self); err == nil {
		fmt.Printf("binary %s: %.1f MB\n", self, float64(st.Size())/1e6)
	}
	admin, err := clientcmd.BuildConfigFromFlags("", assets.Path(dir, assets.AdminKubeconfig))
	if err != nil {
		return err
	}
	admin.QPS, admin.Burst = 1000, 1000
	var firsts, rss []float64
	for i := 0; i < *runs; i++ {
		dataDir := filepath.Join(work, fmt.Sprintf("etcd-%d", i))
		first, peak, stop, err := oneRun(self, dir, dataDir, admin, *verbose)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		fmt.Printf("run %d: first authenticated request %.3fs, peak RSS %.1f MB, stop %.3fs\n", i, first.Seconds(), peak, stop.Seconds())
		firsts, rss = append(firsts, first.Seconds()), append(rss, peak)
		if *verbose {
			log, _ := os.ReadFile(dataDir + ".log")
			for _, l := range strings.Split(string(log), "\n") {
				if strings.Contains(l, "took") || strings.Contains(l, "ready in") {
					fmt.Println("  ", l)
				}
			}
		}
	}
	fmt.Printf("median over %d runs: first authenticated request %.3fs, peak RSS %.1f MB\n", *runs, median(firsts), median(rss))
	return nil
}

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

func oneRun(self, dir, dataDir string, admin *rest.Config, verbose bool) (time.Duration, float64, time.Duration, error) {
	args := []string{"serve", "temp-control-plane", "--asset-dir", dir, "--etcd-data-dir", dataDir}
	if verbose {
		args = append(args, "-v", "1")
	}
	cmd := exec.Command(self, args...)
	logf, _ := os.Create(dataDir + ".log")
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
	}()

	tr, err := rest.TransportFor(admin)
	if err != nil {
		return 0, 0, 0, err
	}
	hc := &http.Client{Transport: tr, Timeout: time.Second}
	url := admin.Host + "/api/v1/namespaces/kube-system"
	var first time.Duration
	for {
		if resp, err := hc.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				first = time.Since(start)
				break
			}
		}
		select {
		case err := <-exited:
			return 0, 0, 0, fmt.Errorf("exited: %v (log %s.log)", err, dataDir)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Since(start) > time.Minute {
			return 0, 0, 0, fmt.Errorf("no answer within a minute (log %s.log)", dataDir)
		}
	}
	// A small, typical bootstrap workload.
	cs := kubernetes.NewForConfigOrDie(admin)
	ctx := context.Background()
	w, err := cs.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, 0, 0, err
	}
	defer w.Stop()
	for i := 0; i < 100; i++ {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm-" + strconv.Itoa(i)}, Data: map[string]string{"k": strings.Repeat("x", 1024)}}
		if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			return 0, 0, 0, err
		}
	}
	if _, err := cs.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{}); err != nil {
		return 0, 0, 0, err
	}
	peak := vmHWM(cmd.Process.Pid)
	stopStart := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		return 0, 0, 0, fmt.Errorf("did not exit within 20s of SIGTERM")
	}
	return first, peak, time.Since(stopStart), nil
}

// vmHWM reads a process's peak resident set size in MB.
func vmHWM(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return -1
}
