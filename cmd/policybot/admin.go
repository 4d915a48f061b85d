package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
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
	c := newCommand("admin create", stderr)
	user := c.String("user", "", "user name")
	role := c.String("role", console.RoleAdmin, "admin or official")
	town := c.String("town", "", "official: their town")
	village := c.String("village", "", "official: their village (empty: the whole town)")
	phone := c.String("phone", "", "their phone in the roster (for previews to their own WeChat)")
	l, code := c.load(args[1:], needConfig)
	if code != 0 {
		return code
	}
	if *user == "" {
		return c.usage("policybot: --user is required")
	}
	cfg := l.cfg
	fmt.Fprintf(stderr, "password for %s (at least 10 characters): ", *user)
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(stderr, "\npolicybot: no password given")
		return 1
	}
	fmt.Fprintln(stderr)
	st, err := openStore(cfg)
	if err != nil {
		return c.fail(err)
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
