package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"policybot/handlers"
	"policybot/store/embedded"
	"policybot/store/redisstore"
)

// openStore opens the backend the configuration names.
func openStore(cfg Config) (handlers.Store, error) {
	switch cfg.Store {
	case "redis":
		return redisstore.Open(redisstore.Options{
			URL: cfg.RedisURL, Addrs: cfg.RedisAddrs, MasterName: cfg.RedisMasterName,
			Username: cfg.RedisUsername, Password: cfg.RedisPassword, DB: cfg.RedisDB,
			Prefix: cfg.RedisPrefix, Timeout: time.Duration(cfg.RedisTimeout),
		})
	case "embedded", "":
		return embedded.Open(cfg.DataDir, embedded.Options{})
	}
	return nil, fmt.Errorf("unknown store %q", cfg.Store)
}

// cmdStore: `policybot store check` opens the configured store and proves
// it works with a write, a read and a delete.
func cmdStore(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("store", stderr)
	const usage = "usage: policybot store check [flags]"
	if len(args) == 0 || args[0] != "check" {
		return c.usage(usage)
	}
	l, code := c.load(args[1:], needStore)
	defer l.close()
	if code != 0 {
		return code
	}
	if c.NArg() != 0 {
		return c.usage(usage)
	}
	cfg, s := l.cfg, l.st
	where := cfg.DataDir
	if cfg.Store == "redis" {
		where = maskURL(cfg.RedisURL)
		if where == "" {
			where = fmt.Sprint(cfg.RedisAddrs)
		}
	}
	check := func() error {
		if err := s.Ping(ctx); err != nil {
			return err
		}
		key := fmt.Sprintf("store-check:%d", time.Now().UnixNano())
		if err := s.PutSession(ctx, key, []byte("ok"), time.Minute); err != nil {
			return err
		}
		v, err := s.GetSession(ctx, key)
		if err != nil {
			return err
		}
		if string(v) != "ok" {
			return errors.New("read back a different value")
		}
		return s.DeleteSession(ctx, key)
	}
	if err := check(); err != nil {
		fmt.Fprintf(stderr, "policybot: store %s at %s: %v\n", cfg.Store, where, err)
		return 1
	}
	fmt.Fprintf(stdout, "store %s at %s: ok (write, read, delete)\n", cfg.Store, where)
	return 0
}

// cmdConfig prints the effective configuration with secrets masked.
func cmdConfig(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("config", stderr)
	if err := c.Parse(args); err != nil {
		return 2
	}
	cfg, err := c.cf.load(os.Getenv) // printed even when invalid: it shows what to fix
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(cfg.Masked())
	if err != nil {
		fmt.Fprintln(stderr, "policybot: invalid configuration:", err)
		return 1
	}
	return 0
}
