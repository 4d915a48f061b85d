package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/officialaccount"
	oaconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
	"github.com/sirupsen/logrus"

	"policybot/store/redisstore"
)

// The load test's account (safe mode needs an AppID and a 43-character key).
const (
	ltToken  = "loadtesttoken"
	ltAppID  = "wxloadtest000001"
	ltAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// referenceServer is the yardstick: a bare server on the same SDK that
// answers every text message with a fixed reply.
func referenceServer() (string, func(), error) {
	wc := officialaccount.NewOfficialAccount(&oaconfig.Config{AppID: ltAppID, AppSecret: "x", Token: ltToken, EncodingAESKey: ltAESKey, Cache: cache.NewMemory()})
	logrus.SetLevel(logrus.WarnLevel)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv := wc.GetServer(r, w)
		srv.SetMessageHandler(func(*message.MixMessage) *message.Reply {
			return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText("fixed reply")}
		})
		if err := srv.Serve(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		srv.Send()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	s := &http.Server{Handler: h}
	go s.Serve(ln)
	return "http://" + ln.Addr().String(), func() { s.Close() }, nil
}

type loadResult struct {
	name, mode    string
	n, errs       int64
	rps           float64
	p50, p99, max time.Duration
}

// drive sends signed text messages to base+path for d with c workers.
func drive(base, path string, aes bool, d time.Duration, c int, questions []string, seq *atomic.Int64, unique bool) loadResult {
	tr := &http.Transport{MaxIdleConns: c * 2, MaxIdleConnsPerHost: c * 2}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	defer tr.CloseIdleConnections()
	var mu sync.Mutex
	var lat []time.Duration
	var n, errs atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(stop) {
				id := seq.Add(1)
				q := questions[int(id)%len(questions)]
				if unique { // a question never seen before: no answer cache
					q += fmt.Sprintf("（%d）", id)
				}
				body := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_load]]></ToUserName><FromUserName><![CDATA[load-user-%d]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%d</MsgId></xml>`, w, time.Now().Unix(), q, id)
				ts := fmt.Sprint(time.Now().Unix())
				nonce := fmt.Sprint(id)
				v := url.Values{"timestamp": {ts}, "nonce": {nonce}, "signature": {util.Signature(ltToken, ts, nonce)}, "openid": {fmt.Sprintf("load-user-%d", w)}}
				if aes {
					enc, _ := util.EncryptMsg([]byte("0123456789abcdef"), []byte(body), ltAppID, ltAESKey)
					v.Set("encrypt_type", "aes")
					v.Set("msg_signature", util.Signature(ltToken, ts, nonce, string(enc)))
					body = `<xml><ToUserName><![CDATA[gh_load]]></ToUserName><Encrypt><![CDATA[` + string(enc) + `]]></Encrypt></xml>`
				}
				t := time.Now()
				resp, err := client.Post(base+path+"?"+v.Encode(), "text/xml", strings.NewReader(body))
				if err != nil {
					errs.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(t))
				n.Add(1)
				if resp.StatusCode != 200 || len(b) == 0 || string(b) == "success" {
					errs.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := loadResult{n: n.Load(), errs: errs.Load(), rps: float64(n.Load()) / d.Seconds()}
	if len(lat) > 0 {
		r.p50, r.p99, r.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return r
}

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// cmdLoadtest measures policybot against the SDK reference in one run.
func cmdLoadtest(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("loadtest", stderr)
	d := c.Duration("duration", 10*time.Second, "how long each of the four runs lasts")
	conc := c.Int("concurrency", 32, "concurrent requests")
	soak := c.Duration("soak", 0, "afterwards, run policybot alone this long and report heap every 30 s (memory flatness)")
	cpuProfile := c.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	unique := c.Bool("unique", false, "make every question distinct, so no answer comes from the answer cache")
	l, code := c.load(args, needConfig)
	if code != 0 {
		return code
	}
	cfg := l.cfg
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "policybot:", err)
			return 1
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if cfg.DataDir == defaultConfig().DataDir && cfg.Store == "embedded" {
		dir, _ := os.MkdirTemp("", "policybot-loadtest-")
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}
	if cfg.Store == "redis" {
		// a prefix of its own, deleted afterwards: the run writes hundreds
		// of thousands of keys
		var b [6]byte
		rand.Read(b[:])
		cfg.RedisPrefix = strings.TrimSuffix(cfg.RedisPrefix, ":") + ":loadtest-" + hex.EncodeToString(b[:]) + ":"
		defer func() {
			if st, err := openStore(cfg); err == nil {
				if rs, ok := st.(*redisstore.Store); ok {
					c := rs.Client()
					iter := c.Scan(context.Background(), 0, cfg.RedisPrefix+"*", 5000).Iterator()
					var keys []string
					for iter.Next(context.Background()) {
						if keys = append(keys, iter.Val()); len(keys) == 5000 {
							c.Del(context.Background(), keys...)
							keys = keys[:0]
						}
					}
					if len(keys) > 0 {
						c.Del(context.Background(), keys...)
					}
				}
				st.Close()
			}
		}()
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.WeChatToken, cfg.WeChatAppID, cfg.WeChatSecret, cfg.WeChatAESKey = ltToken, ltAppID, "x", ltAESKey
	cfg.LogLevel = "error"
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	s, err := newServer(cfg, io.Discard)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.run(sctx) }()
	defer func() { stop(); <-done }()
	ours := "http://" + s.ln.Addr().String()
	ref, closeRef, err := referenceServer()
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	defer closeRef()
	questions := []string{"驻村干部一个月得在村里待几天", "四类人员有哪些", "贫困户识别要走哪些程序", "扶贫举报电话多少",
		"帮扶记录要贫困户签子吗", "退耕还林一亩地补多少钱", "农村饮水三项制度指的啥", "县里退出申请最晚几号交"}
	var seq atomic.Int64
	seq.Store(time.Now().UnixNano())
	fmt.Fprintf(stdout, "load: %d concurrent, %v per run, store %s, GOMAXPROCS %d, unique questions %v\n", *conc, *d, cfg.Store, runtime.GOMAXPROCS(0), *unique)
	heap0 := heapMB()
	var rows []loadResult
	for _, aes := range []bool{false, true} {
		mode := "plaintext"
		if aes {
			mode = "safe mode"
		}
		for _, target := range []struct{ name, base string }{{"SDK reference (fixed reply)", ref}, {"policybot (knowledge base + dedup)", ours}} {
			drive(target.base, "/wechat", aes, time.Second, *conc, questions, &seq, *unique) // warm up
			r := drive(target.base, "/wechat", aes, *d, *conc, questions, &seq, *unique)
			r.name, r.mode = target.name, mode
			rows = append(rows, r)
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "server\tmode\trequests\treq/s\tp50\tp99\tmax\terrors")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.0f\t%v\t%v\t%v\t%d\n", r.name, r.mode, r.n, r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.max.Round(time.Millisecond), r.errs)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "policybot / reference throughput: plaintext %.2fx, safe mode %.2fx\n", rows[1].rps/rows[0].rps, rows[3].rps/rows[2].rps)
	fmt.Fprintf(stdout, "heap after GC: %.1f MB before, %.1f MB after\n", heap0, heapMB())
	failed := rows[1].errs+rows[3].errs > 0
	if *soak > 0 {
		fmt.Fprintf(stdout, "soak: policybot plaintext for %v\n", *soak)
		end := time.Now().Add(*soak)
		for time.Now().Before(end) {
			step := min(30*time.Second, time.Until(end))
			r := drive(ours, "/wechat", false, step, *conc, questions, &seq, *unique)
			fmt.Fprintf(stdout, "  %s  %.0f req/s  p99 %v  heap %.1f MB  errors %d\n", time.Now().Format("15:04:05"), r.rps, r.p99.Round(10*time.Microsecond), heapMB(), r.errs)
			failed = failed || r.errs > 0
		}
	}
	if failed {
		fmt.Fprintln(stderr, "policybot: some policybot requests failed or were not answered")
		return 1
	}
	return 0
}
