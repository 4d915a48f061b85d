package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/silenceper/wechat/v2/util"
	"github.com/sirupsen/logrus"

	"policybot/bot"
	"policybot/console"
	"policybot/handlers"
	"policybot/knowledge"
	"policybot/llm"
	"policybot/quiz"
	"policybot/scheduler"
	"policybot/store/redisstore"
)

// server is a running `policybot serve`, built by newServer so tests can
// start it on a random port.
type server struct {
	cfg     Config
	log     *slog.Logger
	store   handlers.Store
	webhook *bot.Webhook
	http    *http.Server
	ln      net.Listener
	metrics *http.Server // nil: metrics_listen is off
	mln     net.Listener
	kb      *kbHolder
	sched   *scheduler.Scheduler
	quiz    *quizState
	deliver *scheduler.Deliverer
	writer  *handlers.Writer
	counts  *handlers.DailyCounts
}

// quizState holds the bank in force; reload swaps in imported questions.
type quizState struct {
	bank  atomic.Pointer[quiz.Bank]
	kb    func() *knowledge.Base
	store handlers.Store
	log   *slog.Logger
}

func (q *quizState) reload(ctx context.Context) {
	b, err := loadQuizBank(ctx, q.kb(), q.store, func(err error) { q.log.Warn("quiz bank", "err", err) })
	if err != nil {
		q.log.Error("quiz bank not reloaded; keeping the one in force", "err", err)
		return
	}
	q.bank.Store(b)
}

//go:embed demo_places.json
var demoPlaces []byte

// loadPlaces reads places_file; local mode without one gets the demo list
// so the simulator can show 设置 村名.
func loadPlaces(cfg Config, local bool) (*handlers.Places, error) {
	data := []byte(nil)
	switch {
	case cfg.PlacesFile != "":
		b, err := os.ReadFile(cfg.PlacesFile)
		if err != nil {
			return nil, fmt.Errorf("places_file: %w", err)
		}
		data = b
	case local:
		data = demoPlaces
	default:
		return nil, nil
	}
	p, err := handlers.ParsePlaces(data)
	if err != nil {
		return nil, fmt.Errorf("places_file %s: %w", cfg.PlacesFile, err)
	}
	return p, nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// configureSDK sets the SDK's process-wide knobs: a timeout on its HTTP
// client (it uses http.DefaultClient otherwise), the API base for tests,
// and logrus quiet (the SDK would log raw messages at debug level).
func configureSDK(cfg Config) {
	logrus.SetLevel(logrus.WarnLevel)
	util.DefaultHTTPClient = &http.Client{Timeout: 5 * time.Second}
	if base := strings.TrimRight(cfg.WeChatAPIBase, "/"); base != "" {
		util.SetURIModifier(func(uri string) string {
			return strings.Replace(uri, "https://api.weixin.qq.com", base, 1)
		})
	}
}

// kbHolder is the knowledge base in force: the shipped corpus, kb_dirs
// and what was added from the console (in the store). Reload swaps in a
// new one; every user reads it through Load.
type kbHolder struct {
	cfg   Config
	store handlers.KBStore
	log   *slog.Logger
	// embed, when set, gives every base loaded its passages' vectors
	// (cached in vectors, the store's records)
	embed   *llm.Embedder
	vectors handlers.Records
	base    atomic.Pointer[knowledge.Base]
	version atomic.Int64
	mu      sync.Mutex
}

func (h *kbHolder) Load() *knowledge.Base { return h.base.Load() }

// Reload builds the knowledge base again with the store's additions. A
// broken addition is logged and left out; a store that does not answer
// keeps the base in force.
func (h *kbHolder) Reload(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, _ := h.store.Version(ctx)
	extra, err := h.store.FS(ctx)
	if err != nil {
		return fmt.Errorf("knowledge from the store: %w", err)
	}
	kb, problems, err := knowledge.Load(knowledge.Options{Dirs: h.cfg.KBDirs, MinConfidence: h.cfg.MinConfidence, Extra: extra})
	for _, p := range problems {
		h.log.Warn("knowledge: file left out", "file", p.File, "err", p.Err)
	}
	if err != nil {
		return err
	}
	if h.embed != nil {
		var verr error
		if kb, verr = withVectors(ctx, kb, h.embed, h.vectors); verr != nil && !kb.HasVectors() {
			h.log.Error("knowledge: passages not embedded; answering by words until the next reload", "err", verr)
		} else if verr != nil {
			h.log.Warn("knowledge: passage vectors in use but not cached; they are embedded again at the next reload", "err", verr)
		}
	}
	h.base.Store(kb)
	h.version.Store(v)
	return nil
}

// ReloadIfChanged reloads when another instance (or the console) changed
// the stored knowledge.
func (h *kbHolder) ReloadIfChanged(ctx context.Context) error {
	v, err := h.store.Version(ctx)
	if err != nil || v == h.version.Load() {
		return err
	}
	return h.Reload(ctx)
}

func newServer(cfg Config, stderr io.Writer) (*server, error) {
	logger := newLogger(cfg, stderr)
	configureSDK(cfg)
	first, err := loadKB(cfg, stderr)
	if err != nil {
		return nil, err
	}
	if cfg.Store == "redis" {
		redisstore.SetLogger(logger)
	}
	st, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	if err := st.Ping(context.Background()); err != nil {
		// keep running: /readyz reports it and operations recover when the store does
		logger.Error("store not reachable at start", "store", cfg.Store, "err", err)
	}
	embedder, err := newEmbedder(cfg)
	if err != nil {
		st.Close()
		return nil, err
	}
	kbh := &kbHolder{cfg: cfg, store: handlers.KBStore{Records: st, Counters: st}, log: logger, embed: embedder, vectors: st}
	kbh.base.Store(first)
	if err := kbh.Reload(context.Background()); err != nil {
		logger.Error("knowledge added from the console not loaded; serving the files only", "err", err)
	}
	kbNow := kbh.Load
	local := cfg.LocalMode()
	token := cfg.WeChatToken
	if local {
		b := make([]byte, 16)
		rand.Read(b)
		token = hex.EncodeToString(b)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := bot.NewMetrics(reg)

	// unanswered questions go to the store: every instance's meet there
	counts := &handlers.DailyCounts{Counters: st, Logger: logger}
	asker := &handlers.Asker{KB: kbNow, Unanswered: handlers.StoreUnanswered{Records: st}, Logger: logger, Counts: counts, Sessions: st}
	if embedder != nil {
		asker.Embed, asker.EmbedTimeout = embedder.EmbedOne, time.Duration(cfg.EmbedTimeout)
		logger.Info("questions ranked by meaning as well as words", "embed_model", cfg.EmbedModel, "base_url", maskURL(cfg.EmbedBaseURL), "with_vectors", kbNow().HasVectors())
	}
	router := handlers.DefaultRouter(asker, st)
	if local {
		// no customer service behind the simulator: say so, promise nothing
		router.Keyword(handlers.TextIntent(handlers.TextToHumanLocal), "人工", "转人工", "人工客服", "客服")
	}

	places, err := loadPlaces(cfg, local)
	if err != nil {
		st.Close()
		return nil, err
	}
	qs := &quizState{kb: kbNow, store: st, log: logger}
	if shipped, err := quiz.Shipped(); err == nil { // the shipped bank until the store answers
		if b, err := quiz.NewBank(shipped, kbNow().FileText); err == nil {
			qs.bank.Store(b)
		}
	}
	qs.reload(context.Background())
	loc := handlers.ChinaTime()
	qz := &handlers.Quiz{Store: st, Bank: qs.bank.Load, Cite: func(file, quote string) (string, bool) { return kbNow().Cite(file, quote) }, Places: places, RoundSize: cfg.QuizRoundSize,
		Idle: time.Duration(cfg.QuizIdle), Loc: loc, DailyAt: cfg.QuizDailyAt, Quiet: cfg.QuietHours, Logger: logger}
	qz.Register(router)
	staff := staffFor(cfg, st)
	staff.Quiz, staff.Logger = qz, logger
	staff.Register(router, st)
	if res, resumed, err := staff.ResumeImport(context.Background()); resumed {
		logger.Warn("an interrupted roster import was finished", "people", res.People, "pairings", res.Pairings, "tasks", res.Tasks, "err", err)
	}
	notices := &handlers.Notices{Store: st, Staff: staff, TwoPerson: cfg.NoticeTwoPerson, Quiet: cfg.QuietHours}
	notices.Register(router, staff.ReachByPhone)
	sched := scheduler.New(loc, st, logger)
	spec, err := scheduler.DailySpec(cfg.QuizDailyAt)
	if err == nil {
		err = sched.Add(scheduler.Job{Name: "daily-quiz", Spec: spec, Lease: 10 * time.Minute, Run: func(ctx context.Context) error {
			res, err := qz.EnqueueDaily(ctx)
			logger.Info("daily question queued", "question", res.QuestionID, "subscribers", res.Subscribers, "queued", res.Enqueued, "not_before", res.NotBefore)
			return err
		}})
	}
	for _, j := range []struct{ name, spec, kind string }{
		{"visit-reminders", cfg.JobVisits, handlers.RemindVisit},
		{"attendance", cfg.JobAttendance, handlers.RemindAttendance},
		{"deadline-alerts", cfg.JobDeadlines, handlers.RemindDeadline},
	} {
		if err != nil {
			break
		}
		kind, name := j.kind, j.name
		err = sched.Add(scheduler.Job{Name: name, Spec: j.spec, Lease: 10 * time.Minute, Run: func(ctx context.Context) error {
			res, err := staff.Send(ctx, time.Now(), kind)
			logger.Info("reminders queued", "job", name, "due", res.Planned, "queued", res.Queued, "unbound", res.Unbound)
			return err
		}})
	}
	if err == nil {
		err = sched.Add(scheduler.Job{Name: "quiz-bank-reload", Spec: "@every 1m", Local: true, Run: func(ctx context.Context) error {
			qs.reload(ctx)
			return nil
		}})
	}
	if err == nil {
		err = sched.Add(scheduler.Job{Name: "notices-due", Spec: "@every 1m", Lease: 5 * time.Minute, Run: func(ctx context.Context) error {
			_, err := notices.SendDue(ctx, staff.ReachByPhone)
			return err
		}})
	}
	if err == nil {
		// a roster import cut short by a crash is finished, whole
		err = sched.Add(scheduler.Job{Name: "roster-import-resume", Spec: "@every 1m", Lease: 10 * time.Minute, Run: func(ctx context.Context) error {
			res, resumed, err := staff.ResumeImport(ctx)
			if resumed {
				logger.Warn("an interrupted roster import was finished", "people", res.People, "pairings", res.Pairings, "tasks", res.Tasks, "err", err)
			}
			return err
		}})
	}
	if err == nil {
		err = sched.Add(scheduler.Job{Name: "knowledge-reload", Spec: "@every 30s", Local: true, Run: func(ctx context.Context) error {
			return kbh.ReloadIfChanged(ctx)
		}})
	}
	if err != nil {
		st.Close()
		return nil, err
	}

	var sender bot.Sender
	outbox := &bot.Outbox{Store: st}
	if local || cfg.WeChatAppID == "" {
		sender = outbox
	} else {
		cache := &bot.TokenCache{Store: st, Logger: logger}
		sender = &bot.API{Base: cfg.WeChatAPIBase, HTTP: &http.Client{Timeout: 5 * time.Second},
			Tokens: bot.NewStableTokens(cfg.WeChatAppID, cfg.WeChatSecret, cache)}
	}
	if api, ok := sender.(*bot.API); ok {
		notices.Mass = api // households get notices by mass send
	}
	writer, err := newWriter(cfg, st, reg)
	if err != nil {
		st.Close()
		return nil, err
	}
	if writer != nil {
		writer.Logger, writer.Send = logger, sender.SendText
		asker.Writer = writer
		logger.Info("answers written by a model, checked against the passages", "model", cfg.LLMModel, "base_url", cfg.LLMBaseURL)
	}
	wh := bot.NewWebhook(bot.Options{
		Token: token, AppID: cfg.WeChatAppID, AESKey: cfg.WeChatAESKey,
		MaxSkew: time.Duration(cfg.WeChatMaxSkew), Budget: time.Duration(cfg.WeChatBudget),
		Logger: logger, Metrics: metrics,
	}, router, st, sender)

	mux := http.NewServeMux()
	mux.Handle(cfg.WeChatPath, wh)
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, r *http.Request) { io.WriteString(rw, "ok\n") })
	mux.HandleFunc("/readyz", func(rw http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			http.Error(rw, "store unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		kb := kbNow()
		fmt.Fprintf(rw, "ok: store %s, knowledge base %d documents, %d passages\n", cfg.Store, len(kb.Documents()), len(kb.Passages()))
	})
	admin := &console.Console{Store: st, Staff: staff, KB: kbNow, Bank: qs.bank.Load, Knowledge: kbh.store,
		Reload: func(ctx context.Context) error {
			if err := kbh.Reload(ctx); err != nil {
				return err
			}
			qs.reload(ctx) // imported questions quote documents too
			return nil
		},
		Queue: handlers.DailyQueue, Logger: logger, InviteTTL: time.Duration(cfg.InviteTTL), Notices: notices, ReachByPhone: staff.ReachByPhone, Counts: counts,
		Limits: consoleLimits(cfg)}
	if ids, err := st.ListRecords(context.Background(), console.KindAdmin, "", 1); err == nil && len(ids) == 0 {
		// no admin yet: the first is created in the browser with this code
		// (the command line cannot open the embedded store while serve runs)
		var b [4]byte
		rand.Read(b[:])
		admin.SetupCode = fmt.Sprintf("%08d", binary.BigEndian.Uint32(b[:])%100000000)
		logger.Warn("no console admin yet: open the setup page and enter the setup code", "setup", "/admin/setup", "setup_code", admin.SetupCode)
	}
	mux.Handle("/admin/", admin.Handler())
	if cfg.Simulator != nil && *cfg.Simulator || cfg.Simulator == nil && local {
		sim := &bot.Simulator{Token: token, Path: cfg.WeChatPath, Outbox: outbox}
		if local {
			users, err := seedDemo(context.Background(), staff)
			if err != nil {
				logger.Warn("simulator: demo roster not set up", "err", err)
			}
			sim.Users = users
		}
		mux.Handle("/simulator", sim)
		mux.Handle("/simulator/", sim)
		mux.Handle("/{$}", http.RedirectHandler("/simulator", http.StatusFound))
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	var metricsSrv *http.Server
	var mln net.Listener
	if cfg.MetricsListen != "off" {
		// its own listener: the public one (behind the WeChat callback's
		// proxy) never shows the process's figures
		if mln, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			ln.Close()
			st.Close()
			return nil, fmt.Errorf("metrics_listen %s: %w (set POLICYBOT_METRICS_LISTEN to another address, or off)", cfg.MetricsListen, err)
		}
		mm := http.NewServeMux()
		mm.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		metricsSrv = &http.Server{Handler: mm, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second}
	}
	deliver := &scheduler.Deliverer{Store: st, Queue: handlers.DailyQueue, Channels: channelsFor(cfg, st, sender), Log: logger,
		Rate: cfg.DeliveryRate, ChannelRates: cfg.ChannelRates, Workers: cfg.DeliveryWorkers, Loc: loc}
	s := &server{cfg: cfg, log: logger, store: st, webhook: wh, ln: ln, metrics: metricsSrv, mln: mln, kb: kbh, sched: sched, quiz: qs, deliver: deliver, writer: writer, counts: counts,
		http: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}}
	addr := "http://" + ln.Addr().String()
	if local {
		logger.Warn("local mode: no WeChat account configured; token generated, messages go to the simulator only",
			"simulator", addr+"/simulator", "callback", addr+cfg.WeChatPath, "console", addr+"/admin/")
	} else {
		logger.Info("serving the WeChat callback", "callback", addr+cfg.WeChatPath, "safe_mode", cfg.WeChatAESKey != "", "console", addr+"/admin/")
	}
	metricsAt := "off"
	if mln != nil {
		metricsAt = "http://" + mln.Addr().String() + "/metrics"
	}
	logger.Info("ready", "store", cfg.Store, "documents", len(kbNow().Documents()), "passages", len(kbNow().Passages()), "addr", ln.Addr().String(), "metrics", metricsAt)
	return s, nil
}

// consoleLimits are the console's limits from the configuration
// (Validate has checked the proxies).
func consoleLimits(cfg Config) console.Limits {
	proxies, _ := console.ParseProxies(cfg.TrustedProxies)
	return console.Limits{FormBytes: cfg.ConsoleFormBytes, UploadBytes: cfg.ConsoleUploadBytes,
		PerAddress: cfg.LoginPerAddress, PerAccountAddress: cfg.LoginPerAccountAddress, PerAccount: cfg.LoginPerAccount,
		Window: time.Duration(cfg.LoginWindow), TrustedProxies: proxies}
}

// run serves until ctx ends, then shuts down gracefully: finish requests,
// deliver pending answers, close the store.
func (s *server) run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	if s.metrics != nil {
		go s.metrics.Serve(s.mln)
	}
	s.sched.Start()
	s.counts.Start()
	dctx, stopDelivery := context.WithCancel(context.Background())
	delivered := make(chan struct{})
	go func() { s.deliver.Run(dctx); close(delivered) }()
	var serveErr error
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			serveErr = err // still stop the jobs and the pipeline below
		}
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests and pending answers")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.http.Shutdown(sctx)
	if s.metrics != nil {
		s.metrics.Close()
	}
	s.sched.Stop()
	stopDelivery()
	<-delivered
	if s.writer != nil {
		s.writer.Close() // follow-ups in flight
	}
	s.counts.Close()
	s.webhook.Close()
	return errors.Join(serveErr, err, s.store.Close())
}

func cmdServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf commonFlags
	cf.register(fs)
	listen := fs.String("listen", "", "HTTP address (default 127.0.0.1:8080)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := cf.load(os.Getenv)
	if *listen != "" {
		cfg.Listen = *listen
	}
	if err != nil {
		fmt.Fprintln(stderr, "policybot: invalid configuration:", err)
		return 1
	}
	s, err := newServer(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	if err := s.run(ctx); err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	return 0
}
