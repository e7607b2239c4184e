package runtime

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	defaultMaxBodyBytes    = 10 << 20
	defaultShutdownTimeout = 25 * time.Second
	readHeaderTimeout      = 10 * time.Second
	idleTimeout            = 2 * time.Minute
	// defaultReadTimeout bounds the reading of one request body
	// (FLASH_READ_TIMEOUT), so that a slow client cannot hold a handler.
	defaultReadTimeout = 60 * time.Second
	// defaultDrainGrace is how long the listener stays open after SIGTERM
	// (FLASH_DRAIN_GRACE), so that RunPod sees /ping answer 503 and stops
	// routing here before connections are refused.
	defaultDrainGrace = 2 * time.Second
	// defaultMaxPending bounds the local queue API's jobs queued or
	// running (FLASH_QUEUE_MAX_PENDING).
	defaultMaxPending = 1000
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// serverEnv is the environment of a handler process (SPEC section 8).
type serverEnv struct {
	host            string        // HOST: default all interfaces
	port            string        // PORT
	healthPort      string        // PORT_HEALTH: default PORT
	shutdownTimeout time.Duration // FLASH_SHUTDOWN_TIMEOUT
	maxBodyBytes    int64         // FLASH_MAX_BODY_BYTES
	mothership      bool          // FLASH_IS_MOTHERSHIP
	manifestPath    string        // FLASH_MANIFEST_PATH
	readTimeout     time.Duration // FLASH_READ_TIMEOUT
	drainGrace      time.Duration // FLASH_DRAIN_GRACE
	maxPending      int           // FLASH_QUEUE_MAX_PENDING
}

// readServerEnv reads the handler environment through getenv (os.Getenv),
// rejecting malformed values rather than silently using defaults.
func readServerEnv(getenv func(string) string, defaultPort string) (serverEnv, error) {
	env := serverEnv{
		host:            getenv("HOST"),
		port:            getenv("PORT"),
		healthPort:      getenv("PORT_HEALTH"),
		shutdownTimeout: defaultShutdownTimeout,
		maxBodyBytes:    defaultMaxBodyBytes,
		manifestPath:    getenv("FLASH_MANIFEST_PATH"),
		readTimeout:     defaultReadTimeout,
		drainGrace:      defaultDrainGrace,
		maxPending:      defaultMaxPending,
	}
	if env.port == "" {
		env.port = defaultPort
	}
	if err := checkPort("PORT", env.port); err != nil {
		return env, err
	}
	if env.healthPort != "" {
		if err := checkPort("PORT_HEALTH", env.healthPort); err != nil {
			return env, err
		}
	}
	if v := getenv("FLASH_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := parseSeconds(v)
		if err != nil {
			return env, fmt.Errorf("FLASH_SHUTDOWN_TIMEOUT=%q: %w", v, err)
		}
		env.shutdownTimeout = d
	}
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"FLASH_READ_TIMEOUT", &env.readTimeout}, {"FLASH_DRAIN_GRACE", &env.drainGrace}} {
		if v := getenv(d.name); v != "" {
			t, err := parseSeconds(v)
			if err != nil {
				return env, fmt.Errorf("%s=%q: %w", d.name, v, err)
			}
			*d.to = t
		}
	}
	if v := getenv("FLASH_QUEUE_MAX_PENDING"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return env, fmt.Errorf("FLASH_QUEUE_MAX_PENDING=%q: want a positive number of jobs", v)
		}
		env.maxPending = n
	}
	if v := getenv("FLASH_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return env, fmt.Errorf("FLASH_MAX_BODY_BYTES=%q: want a positive number of bytes", v)
		}
		env.maxBodyBytes = n
	}
	if v := getenv("FLASH_IS_MOTHERSHIP"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return env, fmt.Errorf("FLASH_IS_MOTHERSHIP=%q: want true or false", v)
		}
		env.mothership = b
	}
	return env, nil
}

func checkPort(name, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%s=%q: want a port number", name, v)
	}
	return nil
}

// parseSeconds reads a duration given as a Go duration ("25s", "1m") or
// a plain number of seconds ("25").
func parseSeconds(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("negative duration")
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("want seconds or a duration such as 25s")
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration")
	}
	return d, nil
}
