package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// cmdKB lists the loaded documents, or with --passages every passage with
// its heading path: what an official checks after adding a document.
func cmdKB(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	showPassages := fs.Bool("passages", false, "print every passage")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := cf.load(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	kb, err := loadKB(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	for _, d := range kb.Documents() {
		fmt.Fprintf(stdout, "%s\t%s\t%d passages\n", d.File, d.Citation(), len(d.Passages))
		if *showPassages {
			for _, p := range d.Passages {
				fmt.Fprintf(stdout, "  [%d] %s\n      %s\n", p.ID, p.Section(), strings.ReplaceAll(p.Text, "\n", " "))
			}
		}
	}
	fmt.Fprintf(stdout, "%d documents, %d passages, %d FAQ entries\n", len(kb.Documents()), len(kb.Passages()), kb.FAQCount())
	return 0
}
