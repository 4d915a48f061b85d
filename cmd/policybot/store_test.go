package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestStoreSettingsAreValidated(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // substring of the error; "" means valid
	}{
		{"default embedded", map[string]string{}, ""},
		{"redis url", map[string]string{"POLICYBOT_STORE": "redis", "POLICYBOT_REDIS_URL": "redis://127.0.0.1:6379/0"}, ""},
		{"redis sentinel", map[string]string{"POLICYBOT_STORE": "redis", "POLICYBOT_REDIS_ADDRS": "10.0.0.1:26379,10.0.0.2:26379", "POLICYBOT_REDIS_MASTER_NAME": "mymaster"}, ""},
		{"redis without address", map[string]string{"POLICYBOT_STORE": "redis"}, "POLICYBOT_REDIS_URL"},
		{"wrong scheme", map[string]string{"POLICYBOT_STORE": "redis", "POLICYBOT_REDIS_URL": "http://127.0.0.1:6379"}, "redis_url"},
		{"url and addrs", map[string]string{"POLICYBOT_STORE": "redis", "POLICYBOT_REDIS_URL": "redis://a:1", "POLICYBOT_REDIS_ADDRS": "b:2"}, "both set"},
		{"unknown store", map[string]string{"POLICYBOT_STORE": "mongo"}, "not embedded or redis"},
		{"bad timeout", map[string]string{"POLICYBOT_REDIS_TIMEOUT": "soon"}, "POLICYBOT_REDIS_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := (&commonFlags{}).load(func(k string) string { return tt.env[k] })
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("valid settings rejected: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one mentioning %q", err, tt.want)
			}
			if tt.name == "redis sentinel" && (len(c.RedisAddrs) != 2 || c.RedisMasterName != "mymaster") {
				t.Errorf("sentinel settings = %+v", c)
			}
		})
	}
}

func TestConfigMasksSecrets(t *testing.T) {
	t.Setenv("POLICYBOT_STORE", "redis")
	t.Setenv("POLICYBOT_REDIS_URL", "redis://user:hunter2@127.0.0.1:6379/0")
	t.Setenv("POLICYBOT_REDIS_PASSWORD", "s3cret")
	code, out, _ := runCmd(t, "", "config")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, "s3cret") {
		t.Fatalf("a secret was printed:\n%s", out)
	}
	if !strings.Contains(out, `"store": "redis"`) || !strings.Contains(out, "127.0.0.1:6379") {
		t.Errorf("config output:\n%s", out)
	}
}

// Issue 14.12: credentials written into llm_base_url were printed in clear.
func TestConfigMasksCredentialsInTheModelURL(t *testing.T) {
	for _, u := range []string{
		"https://apiuser:sk-live-777@llm.example.com/v1",
		"https://sk-live-777@llm.example.com/v1",
		"https://llm.example.com/v1?api_key=sk-live-777",
	} {
		t.Setenv("POLICYBOT_LLM_BASE_URL", u)
		t.Setenv("POLICYBOT_LLM_MODEL", "qwen-plus")
		code, out, errOut := runCmd(t, "", "config")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if strings.Contains(out, "sk-live-777") || !strings.Contains(out, "llm.example.com/v1") {
			t.Errorf("%s printed as:\n%s", u, out)
		}
	}
	t.Setenv("POLICYBOT_LLM_BASE_URL", "ftp://sk-live-777@llm.example.com/")
	if _, _, errOut := runCmd(t, "", "config"); strings.Contains(errOut, "sk-live-777") || !strings.Contains(errOut, "llm_base_url") {
		t.Errorf("the validation error shows the credential: %s", errOut)
	}
}

func TestStoreCheckEmbedded(t *testing.T) {
	code, out, errOut := runCmd(t, "", "store", "check", "--data-dir", t.TempDir())
	if code != 0 || !strings.Contains(out, "store embedded") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
}

func TestStoreCheckRedis(t *testing.T) {
	url := os.Getenv("POLICYBOT_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	t.Setenv("POLICYBOT_STORE", "redis")
	t.Setenv("POLICYBOT_REDIS_URL", url)
	t.Setenv("POLICYBOT_REDIS_PREFIX", fmt.Sprintf("policybot-test:check:%d:", time.Now().UnixNano()))
	code, out, errOut := runCmd(t, "", "store", "check")
	if code != 0 {
		if os.Getenv("CI") == "" && strings.Contains(errOut, "unavailable") {
			t.Skipf("no Redis at %s", url)
		}
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
}

func TestStoreCheckUnreachableRedisFailsClearly(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("POLICYBOT_STORE", "redis")
	t.Setenv("POLICYBOT_REDIS_URL", "redis://"+addr+"/0")
	t.Setenv("POLICYBOT_REDIS_TIMEOUT", "300ms")
	code, _, errOut := runCmd(t, "", "store", "check")
	if code != 1 || !strings.Contains(errOut, "unavailable") || !strings.Contains(errOut, addr) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}
