package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"policybot/handlers"
	"policybot/llm"
)

// newWriter returns the Writer for cfg, or nil without llm_model: the
// model behind the limits of llm.Limited. A batch run (eval) waits for
// every answer, sends no follow-ups and has no rate limits.
func newWriter(cfg Config, st handlers.Counters, m handlers.WriterMetrics, batch bool) (*handlers.Writer, error) {
	if cfg.LLMModel == "" {
		return nil, nil
	}
	key := cfg.LLMAPIKey
	if cfg.LLMAPIKeyFile != "" {
		b, err := os.ReadFile(cfg.LLMAPIKeyFile)
		if err != nil {
			return nil, fmt.Errorf("llm_api_key_file: %w", err)
		}
		key = strings.TrimSpace(string(b))
	}
	c, err := llm.New(llm.Options{BaseURL: cfg.LLMBaseURL, APIKey: key, Model: cfg.LLMModel, MaxTokens: cfg.LLMMaxTokens, Timeout: time.Duration(cfg.LLMTimeout)})
	if err != nil {
		return nil, err
	}
	limited := &llm.Limited{Model: c, PerUserPerMinute: cfg.LLMPerUserPerMinute, PerMinute: cfg.LLMPerMinute,
		DailyTokens: int64(cfg.LLMDailyTokens), Counters: st}
	w := &handlers.Writer{Model: limited, Passive: time.Duration(cfg.LLMPassive), FollowUp: cfg.LLMFollowUp == nil || *cfg.LLMFollowUp,
		FollowUpWait: time.Duration(cfg.LLMTimeout)}
	if batch {
		w.Passive, w.FollowUp = time.Duration(cfg.LLMTimeout), false
		limited.PerUserPerMinute, limited.PerMinute = 1<<30, 1<<30
	}
	if m != nil {
		w.Metrics, limited.Metrics = m, m
	}
	return w, nil
}

// writerMetrics are the model's Prometheus figures.
type writerMetrics struct {
	calls     *prometheus.CounterVec
	latency   prometheus.Histogram
	tokens    *prometheus.CounterVec
	fallbacks *prometheus.CounterVec
	followUps *prometheus.CounterVec
}

func newWriterMetrics(reg prometheus.Registerer) *writerMetrics {
	m := &writerMetrics{
		calls:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "policybot_llm_calls_total", Help: "Model calls by outcome (ok, error, timeout)."}, []string{"outcome"}),
		latency:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "policybot_llm_call_seconds", Help: "Model call latency.", Buckets: []float64{.25, .5, 1, 2, 3, 5, 10, 20}}),
		tokens:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "policybot_llm_tokens_total", Help: "Tokens used, by kind (prompt, completion)."}, []string{"kind"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "policybot_llm_fallbacks_total", Help: "Extractive answers sent instead of the model's, by reason (ungrounded = grounding-check rejections)."}, []string{"reason"}),
		followUps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "policybot_llm_followups_total", Help: "Late model answers: sent, skipped, error."}, []string{"outcome"}),
	}
	reg.MustRegister(m.calls, m.latency, m.tokens, m.fallbacks, m.followUps)
	return m
}

func (m *writerMetrics) Call(outcome string, took time.Duration, p, c int) {
	m.calls.WithLabelValues(outcome).Inc()
	m.latency.Observe(took.Seconds())
	m.tokens.WithLabelValues("prompt").Add(float64(p))
	m.tokens.WithLabelValues("completion").Add(float64(c))
}
func (m *writerMetrics) Fallback(reason string)  { m.fallbacks.WithLabelValues(reason).Inc() }
func (m *writerMetrics) FollowUp(outcome string) { m.followUps.WithLabelValues(outcome).Inc() }
