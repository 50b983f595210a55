package main

// The tar layer an image is made of: directories, files, symlinks and host
// paths (with the shared libraries they need), written deterministically.

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path"
	"strings"
	"time"
)

// layer is one uncompressed tar layer built in memory, deterministic.
type layer struct {
	buf  bytes.Buffer
	tw   *tar.Writer
	seen map[string]bool
}

var epoch = time.Unix(0, 0).UTC()

func newLayer() *layer {
	l := &layer{seen: map[string]bool{}}
	l.tw = tar.NewWriter(&l.buf)
	return l
}

func (l *layer) header(h *tar.Header) {
	h.ModTime, h.Format = epoch, tar.FormatPAX
	if err := l.tw.WriteHeader(h); err != nil {
		fatalf("tar: %v", err)
	}
}

func (l *layer) dir(p string, mode int64) {
	p = path.Clean(p)
	if p == "/" || l.seen[p] {
		return
	}
	l.dir(path.Dir(p), 0o755)
	l.seen[p] = true
	l.header(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(p, "/") + "/", Mode: mode})
}

func (l *layer) content(p string, mode int64, data []byte) {
	p = path.Clean(p)
	if l.seen[p] {
		return
	}
	l.dir(path.Dir(p), 0o755)
	l.seen[p] = true
	l.header(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(p, "/"), Mode: mode, Size: int64(len(data))})
	if _, err := l.tw.Write(data); err != nil {
		fatalf("tar: %v", err)
	}
}

func (l *layer) addSymlink(p, target string) {
	p = path.Clean(p)
	if l.seen[p] {
		return
	}
	l.dir(path.Dir(p), 0o755)
	l.seen[p] = true
	l.header(&tar.Header{Typeflag: tar.TypeSymlink, Name: strings.TrimPrefix(p, "/"), Linkname: target, Mode: 0o777})
}

func (l *layer) addFile(src, dst string, mode int64) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	l.content(dst, mode, data)
	return nil
}

// base adds what every image gets: /tmp, /etc/passwd, /etc/group, /etc/nsswitch.conf,
// and the merged-/usr symlinks so that host paths like /lib64/ld-linux-x86-64.so.2 resolve.
func (l *layer) base() {
	l.dir("/tmp", 0o1777)
	l.dir("/var/run", 0o755)
	l.content("/etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"))
	l.content("/etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n"))
	l.content("/etc/nsswitch.conf", 0o644, []byte("hosts: files dns\nprotocols: files\nservices: files\n"))
}

// addHostPath copies a host file into the layer at the same path, recreating
// every symlink on the way (e.g. /lib -> usr/lib) so the path resolves in the image.
func (l *layer) addHostPath(p string) error {
	return l.addHostPathDepth(p, 0)
}

func (l *layer) addHostPathDepth(p string, depth int) error {
	if depth > 40 {
		return fmt.Errorf("%s: too many symlinks", p)
	}
	p = path.Clean(p)
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := ""
	for i, part := range parts {
		cur += "/" + part
		fi, err := os.Lstat(cur)
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(cur)
			if err != nil {
				return err
			}
			l.addSymlink(cur, target)
			resolved := target
			if !path.IsAbs(target) {
				resolved = path.Join(path.Dir(cur), target)
			}
			rest := strings.Join(parts[i+1:], "/")
			return l.addHostPathDepth(path.Join(resolved, rest), depth+1)
		}
		if i < len(parts)-1 {
			if !fi.IsDir() {
				return fmt.Errorf("%s: not a directory", cur)
			}
			l.dir(cur, 0o755)
			continue
		}
		if fi.IsDir() {
			l.dir(cur, int64(fi.Mode().Perm()))
			return nil
		}
		return l.addFile(cur, cur, int64(fi.Mode().Perm()))
	}
	return nil
}
