// Command imgtool writes the container images the e2e node runs, without a
// registry or a container engine: each image is FROM scratch plus static
// binaries (and, for kube-proxy, iptables-nft/nft/conntrack with their shared
// libraries taken from the host), written as a docker-archive tarball that
// `ctr -n k8s.io images import` loads under the exact names the rendered
// manifests (and kubeadm) use.
//
//	imgtool build -bin-dir hack/_output/bin -out hack/_output/images [-<image>-image ref ...]
//
// It writes <out>/<image>.tar and <out>/images.txt (one "file ref[,ref...]"
// line per image). An image whose inputs (binaries, host files, names) did not
// change since the last run is not rewritten.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// image describes one image to build.
type image struct {
	key        string   // short name; the tarball is <key>.tar
	refs       []string // names to tag it with; the first is the primary one
	files      []file   // files from the build output / host
	hostPaths  []string // host files copied with their symlink chains (kube-proxy)
	links      map[string]string
	entrypoint []string
	cmd        []string
	optional   bool // skip (with a message) when a binary is missing
}

type file struct {
	src, dst string
	mode     int64
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	if len(os.Args) < 2 || os.Args[1] != "build" {
		fmt.Fprintln(os.Stderr, "usage: imgtool build [flags]  (imgtool build -h for flags)")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	binDir := fs.String("bin-dir", "hack/_output/bin", "directory with the built binaries")
	out := fs.String("out", "hack/_output/images", "output directory for the image tarballs")
	apiserver := fs.String("kube-apiserver-image", "", "kube-apiserver image name (required)")
	cm := fs.String("kube-controller-manager-image", "", "kube-controller-manager image name (required)")
	sched := fs.String("kube-scheduler-image", "", "kube-scheduler image name (required)")
	proxy := fs.String("kube-proxy-image", "", "kube-proxy image name (required)")
	etcd := fs.String("etcd-image", "", "etcd image name (required)")
	var etcdExtra stringList
	fs.Var(&etcdExtra, "etcd-extra-tag", "additional name for the etcd image (repeatable; e.g. the tag kubeadm wants)")
	coredns := fs.String("coredns-image", "", "CoreDNS image name (required) (skipped with a message if no coredns binary was built)")
	pause := fs.String("pause-image", "", "pause (sandbox) image name (required)")
	testserver := fs.String("testserver-image", "localhost/bootstrap-e2e/testserver:v1", "e2e test workload image name (hack/tools/testserver)")
	flannel := fs.String("flannel-image", "", "flannel image name: flanneld (hack/flannel) at /opt/bin/flanneld, the flannel CNI plugin at /flannel, cp (skipped with a message if flanneld was not built)")
	var extra, previous stringList
	fs.Var(&previous, "previous", "a control-plane image of another Kubernetes version as ref=/path/to/kube-BINARY (kube-proxy gets its iptables tools like the main one); repeatable")
	fs.Var(&extra, "extra", "additional single-binary image as ref=binary (binary from -bin-dir or an absolute path, placed at /usr/local/bin/<name>); repeatable")
	only := fs.String("only", "", "comma-separated image keys to build (default all)")
	mainImages := fs.Bool("main", true, "build the main images (false: only the -previous, -extra and -spec ones, e.g. into their own -out)")
	spec := fs.String("spec", "", "JSON file of further images ({key, refs, files [{src, dst, mode}], hostPaths, links, entrypoint, cmd}; relative srcs are in -bin-dir), e.g. hack/conformance/images.sh's")
	_ = fs.Parse(os.Args[2:])
	// No version is spelled here: hack/build-images.sh passes the names the
	// configuration defaults derive (one source of the versions).
	if *mainImages {
		for flagName, v := range map[string]string{"kube-apiserver-image": *apiserver, "kube-controller-manager-image": *cm,
			"kube-scheduler-image": *sched, "kube-proxy-image": *proxy, "etcd-image": *etcd, "coredns-image": *coredns, "pause-image": *pause} {
			if v == "" {
				fatalf("-%s is required (hack/build-images.sh passes it)", flagName)
			}
		}
	}
	if *etcd == "" {
		etcdExtra = nil
	}

	bin := func(n string) file {
		return file{src: filepath.Join(*binDir, n), dst: "/usr/local/bin/" + n, mode: 0o755}
	}
	single := func(key, ref, b string) image {
		return image{key: key, refs: []string{ref}, files: []file{bin(b)}, cmd: []string{"/usr/local/bin/" + b}}
	}
	images := []image{
		single("kube-apiserver", *apiserver, "kube-apiserver"),
		single("kube-controller-manager", *cm, "kube-controller-manager"),
		single("kube-scheduler", *sched, "kube-scheduler"),
		kubeProxyImage(*proxy, bin("kube-proxy")),
		{key: "etcd", refs: append([]string{*etcd}, etcdExtra...), files: []file{bin("etcd"), bin("etcdctl"), bin("etcdutl")}, cmd: []string{"/usr/local/bin/etcd"}},
		{key: "coredns", refs: []string{*coredns}, files: []file{{src: filepath.Join(*binDir, "coredns"), dst: "/coredns", mode: 0o755}},
			entrypoint: []string{"/coredns"}, optional: true},
		{key: "pause", refs: []string{*pause}, files: []file{{src: filepath.Join(*binDir, "pause"), dst: "/pause", mode: 0o755}},
			entrypoint: []string{"/pause"}},
		single("testserver", *testserver, "testserver"),
	}
	if !*mainImages {
		images = nil
	}
	for _, e := range previous {
		ref, path, ok := strings.Cut(e, "=")
		if !ok || !filepath.IsAbs(path) {
			fatalf("-previous %q: want ref=/absolute/path/to/binary", e)
		}
		images = append(images, previousImage(ref, path))
	}
	if *flannel != "" && *mainImages {
		images = append(images, flannelImage(*flannel, *binDir))
	}
	if *spec != "" {
		specImages, err := readSpec(*spec, *binDir)
		if err != nil {
			fatalf("-spec: %v", err)
		}
		images = append(images, specImages...)
	}
	for _, e := range extra {
		ref, b, ok := strings.Cut(e, "=")
		if !ok {
			fatalf("-extra %q: want ref=binary", e)
		}
		f := bin(b)
		if filepath.IsAbs(b) {
			f = file{src: b, dst: "/usr/local/bin/" + filepath.Base(b), mode: 0o755}
		}
		images = append(images, image{key: "extra-" + filepath.Base(b), refs: []string{ref}, files: []file{f}, cmd: []string{f.dst}})
	}
	want := map[string]bool{}
	for _, k := range strings.Split(*only, ",") {
		if k != "" {
			want[k] = true
		}
	}

	if err := os.MkdirAll(*out, 0o755); err != nil {
		fatalf("%v", err)
	}
	var index []string
	for _, img := range images {
		if len(want) > 0 && !want[img.key] {
			continue
		}
		if img.refs[0] == "" {
			fmt.Printf("imgtool: %s: no image name given; skipped\n", img.key)
			continue
		}
		start := time.Now()
		built, err := build(img, *out)
		var missing *missingError
		switch {
		case errors.As(err, &missing) && img.optional:
			fmt.Printf("imgtool: %s: SKIPPED, %v (the e2e treats %s as absent)\n", img.key, err, img.refs[0])
			_ = os.Remove(filepath.Join(*out, img.key+".tar"))
			_ = os.Remove(filepath.Join(*out, img.key+".stamp"))
			_ = os.Remove(filepath.Join(*out, img.key+".quickstamp"))
			continue
		case err != nil:
			fatalf("%s: %v", img.key, err)
		}
		state := "up to date"
		if built {
			state = fmt.Sprintf("written in %.1fs", time.Since(start).Seconds())
		}
		fmt.Printf("imgtool: %s: %s (%s)\n", img.key, strings.Join(img.refs, ", "), state)
		index = append(index, img.key+".tar "+strings.Join(img.refs, ","))
	}
	if len(want) == 0 {
		if err := os.WriteFile(filepath.Join(*out, "images.txt"), []byte(strings.Join(index, "\n")+"\n"), 0o644); err != nil {
			fatalf("%v", err)
		}
	}
}

func kubeProxyImage(ref string, kp file) image {
	img := image{key: "kube-proxy", refs: []string{ref}, files: []file{kp}, cmd: []string{"/usr/local/bin/kube-proxy"},
		links: map[string]string{}}
	// iptables-nft (multi-call binary; dispatches on argv[0]), nft, conntrack.
	img.hostPaths = append(img.hostPaths, "/usr/sbin/xtables-nft-multi", "/usr/sbin/nft", "/usr/sbin/conntrack")
	for _, n := range []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore",
		"iptables-nft", "iptables-nft-save", "iptables-nft-restore", "ip6tables-nft", "ip6tables-nft-save", "ip6tables-nft-restore"} {
		img.links["/usr/sbin/"+n] = "xtables-nft-multi"
	}
	mods, _ := filepath.Glob("/usr/lib/x86_64-linux-gnu/xtables/*.so")
	img.hostPaths = append(img.hostPaths, mods...)
	for _, f := range []string{"/etc/protocols", "/etc/services", "/etc/ethertypes"} {
		if _, err := os.Stat(f); err == nil {
			img.hostPaths = append(img.hostPaths, f)
		}
	}
	return img
}

// flannelImage is flanneld with what it runs (iptables for --ip-masq and
// its forward rules, as kube-proxy's image), the flannel CNI plugin its
// init container installs on the node, and cp for that init container.
func flannelImage(ref, binDir string) image {
	img := kubeProxyImage(ref, file{src: filepath.Join(binDir, "flanneld"), dst: "/opt/bin/flanneld", mode: 0o755})
	img.key, img.optional = "flannel", true
	img.cmd = []string{"/opt/bin/flanneld"}
	img.files = append(img.files,
		file{src: filepath.Join(binDir, "flannel-cni-plugin"), dst: "/flannel", mode: 0o755},
		file{src: filepath.Join(binDir, "cp"), dst: "/bin/cp", mode: 0o755})
	return img
}

// previousImage is a control-plane component's image built from another
// version's binary, keyed apart from the main one so both can be imported.
func previousImage(ref, path string) image {
	f := file{src: path, dst: "/usr/local/bin/" + filepath.Base(path), mode: 0o755}
	img := image{refs: []string{ref}, files: []file{f}, cmd: []string{f.dst}}
	if filepath.Base(path) == "kube-proxy" {
		img = kubeProxyImage(ref, f)
	}
	img.key = "previous-" + filepath.Base(path)
	return img
}

type missingError struct{ path string }

func (e *missingError) Error() string { return e.path + " does not exist" }

// build writes <out>/<key>.tar unless its stamp says the inputs are unchanged.
func build(img image, out string) (bool, error) {
	for _, f := range img.files {
		if _, err := os.Stat(f.src); err != nil {
			return false, &missingError{f.src}
		}
	}
	// Quick check first: metadata of every input (and of the dpkg database, which
	// changes when host libraries do) unchanged -> nothing to read or write.
	tarPath := filepath.Join(out, img.key+".tar")
	stampPath := filepath.Join(out, img.key+".stamp")
	quickPath := filepath.Join(out, img.key+".quickstamp")
	quick := quickStamp(img)
	if old, err := os.ReadFile(quickPath); err == nil && string(old) == quick {
		if _, err := os.Stat(tarPath); err == nil {
			return false, nil
		}
	}
	layer := newLayer()
	layer.base()
	for _, f := range img.files {
		if err := layer.addFile(f.src, f.dst, f.mode); err != nil {
			return false, err
		}
	}
	if len(img.hostPaths) > 0 {
		libs, err := sharedLibs(img.hostPaths)
		if err != nil {
			return false, err
		}
		for _, p := range append(append([]string{}, img.hostPaths...), libs...) {
			if err := layer.addHostPath(p); err != nil {
				return false, err
			}
		}
	}
	var linkNames []string
	for l := range img.links {
		linkNames = append(linkNames, l)
	}
	sort.Strings(linkNames)
	for _, l := range linkNames {
		layer.addSymlink(l, img.links[l])
	}

	// The stamp covers the layer content and the image metadata.
	h := sha256.New()
	h.Write(layer.buf.Bytes())
	fmt.Fprintf(h, "%q %q %q", img.refs, img.entrypoint, img.cmd)
	stamp := hex.EncodeToString(h.Sum(nil))
	if old, err := os.ReadFile(stampPath); err == nil && string(old) == stamp {
		if _, err := os.Stat(tarPath); err == nil {
			return false, os.WriteFile(quickPath, []byte(quick), 0o644)
		}
	}

	if err := layer.tw.Close(); err != nil {
		return false, err
	}
	data := layer.buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		// Cached: the digest, the size and the write each read the
		// compressed layer, and without the cache each gzipped it again.
		tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithCompressedCaching)
	if err != nil {
		return false, err
	}
	v1img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return false, err
	}
	cfg, err := v1img.ConfigFile()
	if err != nil {
		return false, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Config.Env = []string{"PATH=" + defaultPath}
	cfg.Config.Entrypoint = img.entrypoint
	cfg.Config.Cmd = img.cmd
	cfg.Config.WorkingDir = "/"
	v1img, err = mutate.ConfigFile(v1img, cfg)
	if err != nil {
		return false, err
	}
	refs := map[name.Reference]v1.Image{}
	for _, r := range img.refs {
		tag, err := name.NewTag(r, name.StrictValidation)
		if err != nil {
			return false, fmt.Errorf("image name %q: %w", r, err)
		}
		refs[tag] = v1img
	}
	tmp := tarPath + ".tmp"
	if err := tarball.MultiRefWriteToFile(tmp, refs); err != nil {
		return false, err
	}
	if err := os.Rename(tmp, tarPath); err != nil {
		return false, err
	}
	if err := os.WriteFile(stampPath, []byte(stamp), 0o644); err != nil {
		return false, err
	}
	return true, os.WriteFile(quickPath, []byte(quick), 0o644)
}

// quickStamp hashes the metadata (not the content) of an image's inputs.
func quickStamp(img image) string {
	h := sha256.New()
	fmt.Fprintf(h, "v1 %q %q %q %q\n", img.refs, img.entrypoint, img.cmd, img.links)
	paths := []string{}
	for _, f := range img.files {
		paths = append(paths, f.src+"=>"+f.dst)
	}
	paths = append(paths, img.hostPaths...)
	if len(img.hostPaths) > 0 {
		paths = append(paths, "/var/lib/dpkg/status")
	}
	for _, p := range paths {
		src, _, _ := strings.Cut(p, "=>")
		if fi, err := os.Stat(src); err == nil {
			fmt.Fprintf(h, "%s %d %d %v\n", p, fi.Size(), fi.ModTime().UnixNano(), fi.Mode())
		} else {
			fmt.Fprintf(h, "%s missing\n", p)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

var lddRe = regexp.MustCompile(`(?m)^\s*(?:\S+ => )?(/\S+) \(0x`)

// sharedLibs lists the shared libraries (ldd) that the given host ELF files need.
func sharedLibs(paths []string) ([]string, error) {
	seen := map[string]bool{}
	for _, p := range paths {
		if !isELF(p) {
			continue
		}
		outb, err := exec.Command("ldd", p).CombinedOutput()
		if err != nil && strings.Contains(string(outb), "not a dynamic executable") {
			continue // static: nothing to add
		}
		if err != nil {
			return nil, fmt.Errorf("ldd %s: %w: %s", p, err, outb)
		}
		for _, m := range lddRe.FindAllStringSubmatch(string(outb), -1) {
			seen[m[1]] = true
		}
	}
	var libs []string
	for l := range seen {
		libs = append(libs, l)
	}
	sort.Strings(libs)
	return libs, nil
}

// isELF says whether a host path is an ELF file (ldd is asked only about those;
// a static one has no libraries to list).
func isELF(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil {
		return false
	}
	return string(magic) == "\x7fELF"
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "imgtool: "+format+"\n", args...)
	os.Exit(1)
}
