package main

// Images described in a JSON file (-spec), for image sets whose content the
// flags do not cover: the conformance suite's test images
// (hack/conformance/images.sh writes the file).

import (
	"encoding/json"
	"fmt"
	"os"
)

// specImage is one image of a -spec file. Relative file sources are taken
// from -bin-dir; hostPaths are copied from the host with their symlink
// chains and the shared libraries of the ELF files among them.
type specImage struct {
	Key        string            `json:"key"`
	Refs       []string          `json:"refs"`
	Files      []specFile        `json:"files"`
	HostPaths  []string          `json:"hostPaths"`
	Links      map[string]string `json:"links"`
	Entrypoint []string          `json:"entrypoint"`
	Cmd        []string          `json:"cmd"`
}

type specFile struct {
	Src  string `json:"src"`
	Dst  string `json:"dst"`
	Mode int64  `json:"mode"` // default 0755
}

// readSpec turns a -spec file into images; binDir resolves relative sources.
func readSpec(p, binDir string) ([]image, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var specs []specImage
	if err := json.Unmarshal(data, &specs); err != nil {
		return nil, fmt.Errorf("%s: %w (want a JSON list of {key, refs, files, hostPaths, links, entrypoint, cmd})", p, err)
	}
	var images []image
	for i, s := range specs {
		if s.Key == "" || len(s.Refs) == 0 {
			return nil, fmt.Errorf("%s: image %d: key and refs are required", p, i)
		}
		img := image{key: s.Key, refs: s.Refs, hostPaths: s.HostPaths, links: s.Links, entrypoint: s.Entrypoint, cmd: s.Cmd}
		for _, f := range s.Files {
			src := f.Src
			if !isAbs(src) {
				src = binDir + "/" + src
			}
			mode := f.Mode
			if mode == 0 {
				mode = 0o755
			}
			img.files = append(img.files, file{src: src, dst: f.Dst, mode: mode})
		}
		images = append(images, img)
	}
	return images, nil
}

func isAbs(p string) bool { return len(p) > 0 && p[0] == '/' }
