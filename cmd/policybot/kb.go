package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// cmdKB lists the loaded documents, or with --passages every passage with
// its heading path: what an official checks after adding a document.
func cmdKB(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("kb", stderr)
	showPassages := c.Bool("passages", false, "print every passage")
	l, code := c.load(args, needKB)
	if code != 0 {
		return code
	}
	kb := l.kb
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
