package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"policybot/bot"
	"policybot/console"
	"policybot/handlers"
	"policybot/knowledge"
	"policybot/llm"
	"policybot/scheduler"
	"policybot/store/redisstore"
)

// wiring is `policybot serve` being put together: newServer runs its
// steps in order, each building one part from the parts before it.
type wiring struct {
	cfg    Config
	log    *slog.Logger
	local  bool // no WeChat account: a generated token and the simulator
	token  string
	stderr io.Writer

	st       handlers.Store
	kb       *handlers.Knowledge
	embedder *llm.Embedder // nil without embed_model
	reg      *prometheus.Registry
	counts   *handlers.DailyCounts
	asker    *handlers.Asker
	router   *handlers.Router
	bank     *handlers.QuizBank
	quiz     *handlers.Quiz
	staff    *handlers.Staff
	notices  *handlers.Notices
	sched    *scheduler.Scheduler
	outbox   *bot.Outbox
	sender   bot.Sender
	writer   *handlers.Writer
	webhook  *bot.Webhook
	mux      *http.ServeMux

	ln         net.Listener
	metricsSrv *http.Server // nil: metrics_listen is off
	mln        net.Listener
}

// openStore opens the configured backend. A store that does not answer
// yet is not fatal: /readyz reports it and operations recover with it.
func (w *wiring) openStore() error {
	if w.cfg.Store == "redis" {
		redisstore.SetLogger(w.log)
	}
	st, err := openStore(w.cfg)
	if err != nil {
		return err
	}
	w.st = st
	if err := st.Ping(context.Background()); err != nil {
		w.log.Error("store not reachable at start", "store", w.cfg.Store, "err", err)
	}
	return nil
}

// loadKnowledge loads the files, then what the console added, with
// passage vectors when embed_model is set.
func (w *wiring) loadKnowledge() error {
	first, err := loadKB(w.cfg, w.stderr)
	if err != nil {
		return err
	}
	e, err := newEmbedder(w.cfg)
	if err != nil {
		return err
	}
	w.kb = &handlers.Knowledge{Options: knowledgeOptions(w.cfg), Store: handlers.KBStore{Records: w.st, Counters: w.st}, Logger: w.log, Vectors: w.st}
	if e != nil { // not a typed nil in the interface
		w.kb.Embedder, w.embedder = e, e
	}
	w.kb.Set(first)
	if err := w.kb.Reload(context.Background()); err != nil {
		w.log.Error("knowledge added from the console not loaded; serving the files only", "err", err)
	}
	return nil
}

// answering builds the answer path (the Asker behind the router) and
// the model that writes answers when llm_model is set.
func (w *wiring) answering() error {
	w.token = w.cfg.WeChatToken
	if w.local {
		b := make([]byte, 16)
		rand.Read(b)
		w.token = hex.EncodeToString(b)
	}
	w.reg = prometheus.NewRegistry()
	w.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// unanswered questions go to the store: every instance's meet there
	w.counts = &handlers.DailyCounts{Counters: w.st, Logger: w.log}
	w.asker = &handlers.Asker{KB: w.kb.Load, Unanswered: handlers.StoreUnanswered{Records: w.st}, Logger: w.log, Counts: w.counts, Sessions: w.st}
	if w.embedder != nil {
		w.asker.Embed, w.asker.EmbedTimeout = w.embedder.EmbedOne, time.Duration(w.cfg.EmbedTimeout)
		w.log.Info("questions ranked by meaning as well as words", "embed_model", w.cfg.EmbedModel, "base_url", maskURL(w.cfg.EmbedBaseURL), "with_vectors", w.kb.Load().HasVectors())
	}
	w.router = handlers.DefaultRouter(w.asker, w.st)
	if w.local {
		// no customer service behind the simulator: say so, promise nothing
		w.router.Keyword(handlers.TextIntent(handlers.TextToHumanLocal), "人工", "转人工", "人工客服", "客服")
	}
	var metrics handlers.WriterMetrics
	if w.cfg.LLMModel != "" {
		metrics = newWriterMetrics(w.reg)
	}
	writer, err := newWriter(w.cfg, w.st, metrics, false)
	if err != nil {
		return err
	}
	if writer != nil {
		writer.Logger = w.log
		w.writer, w.asker.Writer = writer, writer
		w.log.Info("answers written by a model, checked against the passages", "model", w.cfg.LLMModel, "base_url", w.cfg.LLMBaseURL)
	}
	return nil
}

// quizAndStaff builds the quiz, the staff side and notices, and finishes
// a roster import a crash cut short.
func (w *wiring) quizAndStaff() error {
	places, err := loadPlaces(w.cfg, w.local)
	if err != nil {
		return err
	}
	kbNow := w.kb.Load
	w.bank = handlers.NewQuizBank(w.st, kbNow, w.log)
	w.bank.Reload(context.Background())
	w.quiz = &handlers.Quiz{Store: w.st, Bank: w.bank.Bank, Cite: func(file, quote string) (string, bool) { return kbNow().Cite(file, quote) }, Places: places,
		RoundSize: w.cfg.QuizRoundSize, Idle: time.Duration(w.cfg.QuizIdle), Loc: handlers.ChinaTime(), DailyAt: w.cfg.QuizDailyAt, Quiet: w.cfg.QuietHours, Logger: w.log}
	w.quiz.Register(w.router)
	w.staff = staffFor(w.cfg, w.st)
	w.staff.Quiz, w.staff.Logger = w.quiz, w.log
	w.staff.Register(w.router, w.st)
	w.resumeImport(context.Background())
	w.notices = &handlers.Notices{Store: w.st, Staff: w.staff, TwoPerson: w.cfg.NoticeTwoPerson, Quiet: w.cfg.QuietHours}
	w.notices.Register(w.router, w.staff.ReachByPhone)
	return nil
}

// resumeImport finishes, whole, a roster import a crash cut short.
func (w *wiring) resumeImport(ctx context.Context) error {
	res, resumed, err := w.staff.ResumeImport(ctx)
	if resumed {
		w.log.Warn("an interrupted roster import was finished", "people", res.People, "pairings", res.Pairings, "tasks", res.Tasks, "err", err)
	}
	return err
}

// scheduleJobs adds the timed jobs: the daily question, the reminders,
// due notices, import resumption and the reloads.
func (w *wiring) scheduleJobs() error {
	w.sched = scheduler.New(handlers.ChinaTime(), w.st, w.log)
	spec, err := scheduler.DailySpec(w.cfg.QuizDailyAt)
	if err != nil {
		return err
	}
	jobs := []scheduler.Job{
		{Name: "daily-quiz", Spec: spec, Lease: 10 * time.Minute, Run: func(ctx context.Context) error {
			res, err := w.quiz.EnqueueDaily(ctx)
			w.log.Info("daily question queued", "question", res.QuestionID, "subscribers", res.Subscribers, "queued", res.Enqueued, "not_before", res.NotBefore)
			return err
		}},
	}
	for _, j := range []struct{ name, spec, kind string }{
		{"visit-reminders", w.cfg.JobVisits, handlers.RemindVisit},
		{"attendance", w.cfg.JobAttendance, handlers.RemindAttendance},
		{"deadline-alerts", w.cfg.JobDeadlines, handlers.RemindDeadline},
	} {
		kind, name := j.kind, j.name
		jobs = append(jobs, scheduler.Job{Name: name, Spec: j.spec, Lease: 10 * time.Minute, Run: func(ctx context.Context) error {
			res, err := w.staff.Send(ctx, time.Now(), kind)
			w.log.Info("reminders queued", "job", name, "due", res.Planned, "queued", res.Queued, "unbound", res.Unbound)
			return err
		}})
	}
	jobs = append(jobs,
		scheduler.Job{Name: "quiz-bank-reload", Spec: "@every 1m", Local: true, Run: func(ctx context.Context) error {
			w.bank.Reload(ctx)
			return nil
		}},
		scheduler.Job{Name: "notices-due", Spec: "@every 1m", Lease: 5 * time.Minute, Run: func(ctx context.Context) error {
			_, err := w.notices.SendDue(ctx, w.staff.ReachByPhone)
			return err
		}},
		scheduler.Job{Name: "roster-import-resume", Spec: "@every 1m", Lease: 10 * time.Minute, Run: w.resumeImport},
		scheduler.Job{Name: "knowledge-reload", Spec: "@every 30s", Local: true, Run: w.kb.ReloadIfChanged},
	)
	for _, j := range jobs {
		if err := w.sched.Add(j); err != nil {
			return err
		}
	}
	return nil
}

// senders picks who sends: the WeChat API with an account, else the
// local outbox the simulator reads.
func (w *wiring) senders() error {
	w.outbox = &bot.Outbox{Store: w.st}
	w.sender = w.outbox
	if !w.local {
		if api := apiFor(w.cfg, w.st, w.log); api != nil {
			w.sender = api
			w.notices.Mass = api // households get notices by mass send
		}
	}
	if w.writer != nil {
		w.writer.Send = w.sender.SendText
	}
	return nil
}

// webhookAndConsole builds the HTTP routes: the WeChat callback, health,
// the console and, in local mode, the simulator.
func (w *wiring) webhookAndConsole() error {
	w.webhook = bot.NewWebhook(bot.Options{
		Token: w.token, AppID: w.cfg.WeChatAppID, AESKey: w.cfg.WeChatAESKey,
		MaxSkew: time.Duration(w.cfg.WeChatMaxSkew), Budget: time.Duration(w.cfg.WeChatBudget),
		Logger: w.log, Metrics: bot.NewMetrics(w.reg),
	}, w.router, w.st, w.sender)
	w.mux = http.NewServeMux()
	w.mux.Handle(w.cfg.WeChatPath, w.webhook)
	w.mux.HandleFunc("/healthz", func(rw http.ResponseWriter, r *http.Request) { io.WriteString(rw, "ok\n") })
	w.mux.HandleFunc("/readyz", w.ready)
	w.mux.Handle("/admin/", w.console().Handler())
	if w.cfg.Simulator != nil && *w.cfg.Simulator || w.cfg.Simulator == nil && w.local {
		sim := &bot.Simulator{Token: w.token, Path: w.cfg.WeChatPath, Outbox: w.outbox}
		if w.local {
			users, err := seedDemo(context.Background(), w.staff)
			if err != nil {
				w.log.Warn("simulator: demo roster not set up", "err", err)
			}
			sim.Users = users
		}
		w.mux.Handle("/simulator", sim)
		w.mux.Handle("/simulator/", sim)
		w.mux.Handle("/{$}", http.RedirectHandler("/simulator", http.StatusFound))
	}
	return nil
}

// ready answers /readyz: the store answers and the knowledge base is loaded.
func (w *wiring) ready(rw http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := w.st.Ping(ctx); err != nil {
		http.Error(rw, "store unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	kb := w.kb.Load()
	fmt.Fprintf(rw, "ok: store %s, knowledge base %d documents, %d passages\n", w.cfg.Store, len(kb.Documents()), len(kb.Passages()))
}

// console is the officials' console; with no account yet, the first is
// created in the browser with a setup code printed to the log (the
// command line cannot open the embedded store while serve runs).
func (w *wiring) console() *console.Console {
	admin := &console.Console{Store: w.st, Staff: w.staff, KB: w.kb.Load, Bank: w.bank.Bank, Knowledge: w.kb.Store,
		Reload: func(ctx context.Context) error {
			if err := w.kb.Reload(ctx); err != nil {
				return err
			}
			w.bank.Reload(ctx) // imported questions quote documents too
			return nil
		},
		Queue: handlers.DailyQueue, Logger: w.log, InviteTTL: time.Duration(w.cfg.InviteTTL), Notices: w.notices, ReachByPhone: w.staff.ReachByPhone, Counts: w.counts,
		Limits: w.cfg.ConsoleSettings.Limits()}
	if has, err := console.HasAccount(context.Background(), w.st); err == nil && !has {
		var b [4]byte
		rand.Read(b[:])
		admin.SetupCode = fmt.Sprintf("%08d", binary.BigEndian.Uint32(b[:])%100000000)
		w.log.Warn("no console admin yet: open the setup page and enter the setup code", "setup", "/admin/setup", "setup_code", admin.SetupCode)
	}
	return admin
}

// listen opens the public listener and, unless metrics_listen is off,
// the metrics one: the public one (behind the WeChat callback's proxy)
// never shows the process's figures.
func (w *wiring) listen() error {
	ln, err := net.Listen("tcp", w.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", w.cfg.Listen, err)
	}
	w.ln = ln
	if w.cfg.MetricsListen == "off" {
		return nil
	}
	if w.mln, err = net.Listen("tcp", w.cfg.MetricsListen); err != nil {
		return fmt.Errorf("metrics_listen %s: %w (set POLICYBOT_METRICS_LISTEN to another address, or off)", w.cfg.MetricsListen, err)
	}
	mm := http.NewServeMux()
	mm.Handle("/metrics", promhttp.HandlerFor(w.reg, promhttp.HandlerOpts{}))
	w.metricsSrv = &http.Server{Handler: mm, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second}
	return nil
}

// deliverer drains the outbound queue through the configured channels.
func (w *wiring) deliverer() *scheduler.Deliverer {
	return &scheduler.Deliverer{Store: w.st, Queue: handlers.DailyQueue, Channels: channelsFor(w.cfg, w.st, w.sender), Log: w.log,
		Rate: w.cfg.DeliveryRate, ChannelRates: w.cfg.ChannelRates, Workers: w.cfg.DeliveryWorkers, Loc: handlers.ChinaTime()}
}

func (w *wiring) httpServer() *http.Server {
	return &http.Server{Handler: w.mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
}

// logReady says where everything is.
func (w *wiring) logReady() {
	addr := "http://" + w.ln.Addr().String()
	if w.local {
		w.log.Warn("local mode: no WeChat account configured; token generated, messages go to the simulator only",
			"simulator", addr+"/simulator", "callback", addr+w.cfg.WeChatPath, "console", addr+"/admin/")
	} else {
		w.log.Info("serving the WeChat callback", "callback", addr+w.cfg.WeChatPath, "safe_mode", w.cfg.WeChatAESKey != "", "console", addr+"/admin/")
	}
	metricsAt := "off"
	if w.mln != nil {
		metricsAt = "http://" + w.mln.Addr().String() + "/metrics"
	}
	kb := w.kb.Load()
	w.log.Info("ready", "store", w.cfg.Store, "documents", len(kb.Documents()), "passages", len(kb.Passages()), "addr", w.ln.Addr().String(), "metrics", metricsAt)
}

// knowledgeOptions are the knowledge base's settings of a configuration.
func knowledgeOptions(cfg Config) knowledge.Options {
	return knowledge.Options{Dirs: cfg.KBDirs, MinConfidence: cfg.MinConfidence}
}
