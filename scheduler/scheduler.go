package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"policybot/handlers"
)

// Job is one scheduled task. Run must return when ctx ends.
type Job struct {
	Name string
	// Spec is a five-field cron expression ("0 9 * * *") in the
	// scheduler's time zone.
	Spec string
	// Lease bounds one run; another instance may take the job after it.
	Lease time.Duration
	// Local jobs run on every instance, without a lease (a cache reload).
	Local bool
	Run   func(ctx context.Context) error
}

// JobStore is what the scheduler keeps in the store: leases, and each
// job's last run (for catching up after downtime).
type JobStore interface {
	handlers.Locks
	handlers.Records
}

// KindJobRun records a job's last run (id: job name).
const KindJobRun = "jobrun"

// Scheduler runs jobs. Create with New, add jobs, Start, and Stop.
type Scheduler struct {
	c     *cron.Cron
	locks JobStore
	jobs  []scheduled
	// Now is the clock catch-up compares against (default time.Now).
	Now    func() time.Time
	owner  string
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	stats  map[string]*Stats
	loc    *time.Location
}

// Stats are a job's counts since start.
type Stats struct {
	Runs, Skipped, Failed, Panics int
	Last                          time.Time
	LastErr                       string
}

type scheduled struct {
	job   Job
	sched cron.Schedule
}

// New returns a scheduler in loc whose jobs take leases from (and record
// their runs in) the store.
func New(loc *time.Location, locks JobStore, log *slog.Logger) *Scheduler {
	b := make([]byte, 8)
	rand.Read(b)
	ctx, cancel := context.WithCancel(context.Background())
	if log == nil {
		log = slog.Default()
	}
	return &Scheduler{c: cron.New(cron.WithLocation(loc)), locks: locks, owner: hex.EncodeToString(b), log: log,
		ctx: ctx, cancel: cancel, stats: map[string]*Stats{}, loc: loc}
}

// Add registers a job; the spec is checked here.
func (s *Scheduler) Add(j Job) error {
	if j.Lease <= 0 {
		j.Lease = 10 * time.Minute
	}
	s.mu.Lock()
	s.stats[j.Name] = &Stats{}
	s.mu.Unlock()
	running := make(chan struct{}, 1)
	_, err := s.c.AddFunc(j.Spec, func() {
		select {
		case running <- struct{}{}:
		default:
			s.count(j.Name, func(st *Stats) { st.Skipped++ })
			s.log.Warn("job still running: this run skipped", "job", j.Name)
			return
		}
		s.wg.Add(1)
		defer func() { <-running; s.wg.Done() }()
		s.RunNow(s.ctx, j)
	})
	if err != nil {
		return fmt.Errorf("scheduler: job %s: schedule %q: %w", j.Name, j.Spec, err)
	}
	sched, _ := cron.ParseStandard(j.Spec)
	if sched != nil && s.loc != nil && !strings.HasPrefix(j.Spec, "@every") {
		sched, _ = cron.ParseStandard("CRON_TZ=" + s.loc.String() + " " + j.Spec)
	}
	s.jobs = append(s.jobs, scheduled{j, sched})
	return nil
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Missed returns the jobs whose scheduled time passed since their last
// recorded run (the service was down). A job never run before is not
// missed: it waits for its first time.
func (s *Scheduler) Missed(ctx context.Context) ([]Job, error) {
	var out []Job
	now := s.now()
	for _, sj := range s.jobs {
		if sj.job.Local || sj.sched == nil {
			continue
		}
		b, err := s.locks.GetRecord(ctx, KindJobRun, sj.job.Name)
		if errors.Is(err, handlers.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var last jobRun
		if err := json.Unmarshal(b, &last); err != nil {
			continue
		}
		if next := sj.sched.Next(last.At); !next.After(now) {
			out = append(out, sj.job)
		}
	}
	return out, nil
}

// CatchUp runs once, now, each job whose time passed while the service
// was down: once, however many times were missed.
func (s *Scheduler) CatchUp(ctx context.Context) {
	missed, err := s.Missed(ctx)
	if err != nil {
		s.log.Error("scheduler: cannot tell which jobs were missed", "err", err)
		return
	}
	for _, j := range missed {
		s.log.Info("job missed while down: running it once now", "job", j.Name)
		s.RunNow(ctx, j)
	}
}

type jobRun struct {
	At time.Time `json:"at"`
}

// RunNow runs j once under its lease (skipping it when another instance
// holds the lease), recovering a panic. Tests and `policybot` commands
// use it directly.
func (s *Scheduler) RunNow(ctx context.Context, j Job) (ran bool, err error) {
	lease := "job:" + j.Name
	if j.Lease <= 0 {
		j.Lease = 10 * time.Minute
	}
	ok := true
	if !j.Local {
		ok, err = s.locks.AcquireLease(ctx, lease, s.owner, j.Lease)
	}
	if err != nil {
		s.count(j.Name, func(st *Stats) { st.Failed++; st.LastErr = err.Error() })
		s.log.Error("job lease not taken", "job", j.Name, "err", err)
		return false, err
	}
	if !ok {
		s.count(j.Name, func(st *Stats) { st.Skipped++ })
		s.log.Info("job running on another instance", "job", j.Name)
		return false, nil
	}
	defer func() {
		if j.Local {
			return
		}
		if _, rerr := s.locks.ReleaseLease(context.WithoutCancel(ctx), lease, s.owner); rerr != nil {
			s.log.Warn("job lease not released", "job", j.Name, "err", rerr)
		}
	}()
	jctx, cancel := context.WithTimeout(ctx, j.Lease)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("scheduler: job %s panicked: %v", j.Name, p)
			s.count(j.Name, func(st *Stats) { st.Panics++; st.LastErr = err.Error() })
			s.log.Error("job panicked", "job", j.Name, "panic", p, "stack", string(debug.Stack()))
		}
	}()
	start := time.Now()
	ran = true
	at := s.now()
	err = j.Run(jctx)
	// a run that finished is recorded; one cut short (an error, a crash)
	// is run again by the next catch-up: jobs are idempotent
	if err == nil && !j.Local {
		if b, merr := json.Marshal(jobRun{At: at}); merr == nil {
			if perr := s.locks.PutRecord(context.WithoutCancel(ctx), KindJobRun, j.Name, b); perr != nil {
				s.log.Warn("job run not recorded", "job", j.Name, "err", perr)
			}
		}
	}
	s.count(j.Name, func(st *Stats) {
		st.Runs++
		st.Last = start
		if err != nil {
			st.Failed++
			st.LastErr = err.Error()
		}
	})
	if err != nil {
		s.log.Error("job failed", "job", j.Name, "err", err, "took", time.Since(start))
	} else if !j.Local {
		s.log.Info("job done", "job", j.Name, "took", time.Since(start))
	}
	return true, err
}

func (s *Scheduler) count(name string, f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats[name]
	if st == nil {
		st = &Stats{}
		s.stats[name] = st
	}
	f(st)
}

// Stats returns a copy of a job's counts.
func (s *Scheduler) Stats(name string) Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.stats[name]; st != nil {
		return *st
	}
	return Stats{}
}

// Start runs the jobs missed while the service was down (in the
// background), then runs jobs on their schedules.
func (s *Scheduler) Start() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.CatchUp(s.ctx)
	}()
	s.c.Start()
}

// Stop stops scheduling, cancels running jobs and waits for them.
func (s *Scheduler) Stop() {
	<-s.c.Stop().Done()
	s.cancel()
	s.wg.Wait()
}

// DailySpec turns "09:00" into a cron spec.
func DailySpec(clock string) (string, error) {
	m, err := handlers.ParseClock(clock)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d %d * * *", m%60, m/60), nil
}
