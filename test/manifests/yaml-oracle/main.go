// yaml-oracle reads manifest files the way kubectl does and prints what the
// API server would receive, so tests can compare Tollgate's YAML reading
// with kubectl's. For each file argument it splits the stream with
// k8s.io/apimachinery's YAML-or-JSON decoder (kubectl's resource builder
// uses the same one) and converts every document with sigs.k8s.io/yaml.
//
// Output: one JSON array on stdout, one element per file:
//
//	{"file": "...", "documents": [<JSON>, ...]}   or
//	{"file": "...", "documents": [...], "error": "..."}
//
// Empty documents are left out, as kubectl leaves them out.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/util/yaml"
)

type result struct {
	File      string            `json:"file"`
	Documents []json.RawMessage `json:"documents"`
	Error     string            `json:"error,omitempty"`
}

func read(path string) result {
	out := result{File: path, Documents: []json.RawMessage{}}
	f, err := os.Open(path)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	defer f.Close()
	decoder := yaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var raw json.RawMessage
		err := decoder.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			out.Error = err.Error()
			return out
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			continue
		}
		out.Documents = append(out.Documents, raw)
	}
}

func main() {
	results := make([]result, 0, len(os.Args)-1)
	for _, path := range os.Args[1:] {
		results = append(results, read(path))
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
