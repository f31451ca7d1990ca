/* process_* metrics; contract in obs/process.h. */
#include "obs/process.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* The first line of a /proc file into buf; false if it cannot be read. */
static bool read_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)cap, f) != NULL;
	fclose(f);
	return ok;
}

/* Field n (1-based, as proc(5) counts them) of /proc/self/stat: counted
 * after the command name, which may hold blanks and parentheses. */
static bool stat_field(unsigned n, unsigned long long *out)
{
	char line[1024], *p, *end;

	if (!read_line("/proc/self/stat", line, sizeof(line)))
		return false;
	p = strrchr(line, ')');
	if (!p)
		return false;
	p++;
	for (unsigned i = 3; p && i <= n; i++) { /* field 3 follows ')' */
		while (*p == ' ')
			p++;
		if (i == n) {
			*out = strtoull(p, &end, 10);
			return end != p;
		}
		p = strchr(p, ' ');
	}
	return false;
}

/* btime of /proc/stat: the boot time, seconds since the epoch. */
static bool boot_time(unsigned long long *out)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "btime ", 6) != 0)
			continue;
		*out = strtoull(line + 6, NULL, 10);
		found = *out > 0;
	}
	fclose(f);
	return found;
}

double gw_process_start_time(void)
{
	unsigned long long ticks, btime;
	long hz = sysconf(_SC_CLK_TCK);

	if (hz > 0 && stat_field(22, &ticks) && boot_time(&btime))
		return (double)btime + (double)ticks / (double)hz;
	return (double)time(NULL);
}

static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	long n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the one opendir holds */
}

static void render_cpu(struct gw_mtext *t)
{
	struct rusage ru;
	double s;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return;
	s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	gw_mtext_family(t, "process_cpu_seconds_total", "counter",
			"Total user and system CPU time spent in seconds.");
	gw_mtext_f64(t, "process_cpu_seconds_total", s, NULL);
}

static void render_memory(struct gw_mtext *t)
{
	char line[256], *end;
	unsigned long long vm, rss;
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0 || !read_line("/proc/self/statm", line, sizeof(line)))
		return;
	vm = strtoull(line, &end, 10);
	rss = strtoull(end, NULL, 10);
	gw_mtext_family(t, "process_resident_memory_bytes", "gauge",
			"Resident memory size in bytes.");
	gw_mtext_u64(t, "process_resident_memory_bytes", (uint64_t)rss * (uint64_t)page, NULL);
	gw_mtext_family(t, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	gw_mtext_u64(t, "process_virtual_memory_bytes", (uint64_t)vm * (uint64_t)page, NULL);
}

void gw_process_render(struct gw_mtext *t, double start_time)
{
	struct rlimit rl;
	long fds = open_fds();

	render_cpu(t);
	render_memory(t);
	if (fds >= 0) {
		gw_mtext_family(t, "process_open_fds", "gauge", "Number of open file descriptors.");
		gw_mtext_u64(t, "process_open_fds", (uint64_t)fds, NULL);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		gw_mtext_family(t, "process_max_fds", "gauge",
				"Maximum number of open file descriptors.");
		gw_mtext_u64(t, "process_max_fds", (uint64_t)rl.rlim_cur, NULL);
	}
	gw_mtext_family(t, "process_start_time_seconds", "gauge",
			"Start time of the process since unix epoch in seconds.");
	gw_mtext_f64(t, "process_start_time_seconds", start_time, NULL);
}
