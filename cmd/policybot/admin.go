package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"policybot/console"
)

// cmdAdmin: `policybot admin create --user NAME [--role admin|official]
// [--town T] [--village V]` reads the password from standard input (one
// line, at least 10 characters) and creates or replaces the account.
func cmdAdmin(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: policybot admin create --user NAME [--role admin|official] [--town 镇] [--village 村]  (password on standard input)")
		return 2
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	user := fs.String("user", "", "user name")
	role := fs.String("role", console.RoleAdmin, "admin or official")
	town := fs.String("town", "", "official: their town")
	village := fs.String("village", "", "official: their village (empty: the whole town)")
	phone := fs.String("phone", "", "their phone in the roster (for previews to their own WeChat)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *user == "" {
		fmt.Fprintln(stderr, "policybot: --user is required")
		return 2
	}
	cfg, err := cf.load(os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "policybot: invalid configuration:", err)
		return 1
	}
	fmt.Fprintf(stderr, "password for %s (at least 10 characters): ", *user)
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(stderr, "\npolicybot: no password given")
		return 1
	}
	fmt.Fprintln(stderr)
	st, err := openStore(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	defer st.Close()
	u := console.User{Name: *user, Role: *role, Town: *town, Village: *village, Phone: *phone}
	if err := console.CreateUser(ctx, st, u, strings.TrimRight(line, "\r\n")); err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	fmt.Fprintf(stdout, "created %s (%s); log in at http://%s/admin/\n", *user, *role, cfg.Listen)
	return 0
}
