package bot

import (
	"errors"
	"sync"
)

// pool runs jobs on a fixed number of goroutines with a bounded queue, so
// a flood of slow questions cannot grow goroutines without limit. Close
// waits for every accepted job to finish.
type pool struct {
	jobs chan func()
	wg   sync.WaitGroup
	mu   sync.RWMutex
	shut bool
}

var errPoolFull = errors.New("bot: worker pool is full")

func newPool(workers, queue int) *pool {
	p := &pool{jobs: make(chan func(), queue)}
	for i := 0; i < workers; i++ {
		go func() {
			for job := range p.jobs {
				job()
				p.wg.Done()
			}
		}()
	}
	return p
}

// submit queues job or returns errPoolFull without blocking.
func (p *pool) submit(job func()) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.shut {
		return errors.New("bot: shutting down")
	}
	p.wg.Add(1)
	select {
	case p.jobs <- job:
		return nil
	default:
		p.wg.Done()
		return errPoolFull
	}
}

// close stops accepting jobs and waits for the accepted ones.
func (p *pool) close() {
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		return
	}
	p.shut = true
	p.mu.Unlock()
	p.wg.Wait()
	close(p.jobs)
}
