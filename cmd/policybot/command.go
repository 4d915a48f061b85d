package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"policybot/handlers"
	"policybot/knowledge"
)

// command is the preamble every subcommand shares: a flag set holding the
// common flags (--config, --kb, --data-dir), then the configuration and,
// when the command needs them, the knowledge base and the store.
type command struct {
	*flag.FlagSet
	cf     commonFlags
	stderr io.Writer
}

func newCommand(name string, stderr io.Writer) *command {
	c := &command{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), stderr: stderr}
	c.SetOutput(stderr)
	c.cf.register(c.FlagSet)
	return c
}

// needs says what a command loads besides its configuration.
type needs int

const (
	needConfig needs = 0
	needKB     needs = 1 << iota
	needStore
)

// loaded is what a command works with.
type loaded struct {
	cfg Config
	kb  *knowledge.Base // with needKB
	st  handlers.Store  // with needStore; close it
}

func (l loaded) close() {
	if l.st != nil {
		l.st.Close()
	}
}

// load parses args and loads what the command needs. A non-zero code is
// the exit code to return: 2 for flags that do not parse, 1 for anything
// else; the problem has been printed.
func (c *command) load(args []string, n needs) (l loaded, code int) {
	if err := c.Parse(args); err != nil {
		return l, 2
	}
	cfg, err := c.cf.load(os.Getenv)
	if err != nil {
		fmt.Fprintln(c.stderr, "policybot: invalid configuration:", err)
		return l, 1
	}
	l.cfg = cfg
	if n&needKB != 0 {
		if l.kb, err = loadKB(cfg, c.stderr); err != nil {
			return l, c.fail(err)
		}
	}
	if n&needStore != 0 {
		if l.st, err = openStore(cfg); err != nil {
			return l, c.fail(err)
		}
	}
	return l, 0
}

// fail prints err as the command's error; it returns the exit code 1.
func (c *command) fail(err error) int {
	fmt.Fprintln(c.stderr, "policybot:", err)
	return 1
}

// usage prints the command's usage line; it returns the exit code 2.
func (c *command) usage(text string) int {
	fmt.Fprintln(c.stderr, text)
	return 2
}

// loadKB loads the knowledge base for cfg, printing each skipped file to
// stderr. A broken user file is skipped; a broken embedded corpus fails.
func loadKB(cfg Config, stderr io.Writer) (*knowledge.Base, error) {
	kb, problems, err := knowledge.Load(knowledgeOptions(cfg))
	for _, p := range problems {
		fmt.Fprintf(stderr, "policybot: skipped %v\n", p)
	}
	return kb, err
}
