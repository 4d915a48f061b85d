package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"
	"github.com/sirupsen/logrus"

	"policybot/bot"
	"policybot/handlers"
	"policybot/scheduler"
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
	kb      *handlers.Knowledge
	sched   *scheduler.Scheduler
	bank    *handlers.QuizBank
	deliver *scheduler.Deliverer
	writer  *handlers.Writer
	counts  *handlers.DailyCounts
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

func newServer(cfg Config, stderr io.Writer) (*server, error) {
	w := &wiring{cfg: cfg, log: newLogger(cfg, stderr), local: cfg.LocalMode(), stderr: stderr}
	configureSDK(cfg)
	for _, step := range []func() error{
		w.openStore,
		w.loadKnowledge,
		w.answering,
		w.quizAndStaff,
		w.scheduleJobs,
		w.senders,
		w.webhookAndConsole,
		w.listen,
	} {
		if err := step(); err != nil {
			if w.ln != nil {
				w.ln.Close()
			}
			if w.st != nil {
				w.st.Close()
			}
			return nil, err
		}
	}
	w.logReady()
	return &server{cfg: cfg, log: w.log, store: w.st, webhook: w.webhook, ln: w.ln, metrics: w.metricsSrv, mln: w.mln, kb: w.kb, sched: w.sched,
		bank: w.bank, deliver: w.deliverer(), writer: w.writer, counts: w.counts, http: w.httpServer()}, nil
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
	c := newCommand("serve", stderr)
	listen := c.String("listen", "", "HTTP address (default 127.0.0.1:8080)")
	l, code := c.load(args, needConfig)
	if code != 0 {
		return code
	}
	if *listen != "" {
		l.cfg.Listen = *listen
	}
	s, err := newServer(l.cfg, stderr)
	if err != nil {
		return c.fail(err)
	}
	if err := s.run(ctx); err != nil {
		return c.fail(err)
	}
	return 0
}
