package bot

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the webhook's Prometheus series.
type Metrics struct {
	Requests     *prometheus.CounterVec   // type (text, event, media, verify), outcome
	ReplySeconds prometheus.Histogram     // time to the passive reply
	DedupHits    prometheus.Counter       // retries recognised
	AsyncReplies *prometheus.CounterVec   // outcome: sent, failed, pending_delivered
	SendErrors   *prometheus.CounterVec   // errcode of failed outbound sends
	Unanswered   prometheus.Counter       // questions the knowledge base could not answer
	HandlerTime  *prometheus.HistogramVec // handler run time by type
}

// NewMetrics registers the series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policybot_wechat_requests_total", Help: "WeChat callback requests by message type and outcome.",
		}, []string{"type", "outcome"}),
		ReplySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "policybot_wechat_reply_seconds", Help: "Time from request to passive reply.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 4, 4.5, 5},
		}),
		DedupHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "policybot_wechat_dedup_hits_total", Help: "Retried messages recognised and not processed again.",
		}),
		AsyncReplies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policybot_wechat_async_replies_total", Help: "Answers that missed the passive-reply budget, by outcome.",
		}, []string{"outcome"}),
		SendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policybot_wechat_send_errors_total", Help: "Failed customer-service sends by WeChat errcode.",
		}, []string{"errcode"}),
		Unanswered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "policybot_unanswered_questions_total", Help: "Questions the knowledge base could not answer.",
		}),
		HandlerTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "policybot_handler_seconds", Help: "Intent handling time.", Buckets: prometheus.DefBuckets,
		}, []string{"type"}),
	}
	reg.MustRegister(m.Requests, m.ReplySeconds, m.DedupHits, m.AsyncReplies, m.SendErrors, m.Unanswered, m.HandlerTime)
	return m
}
