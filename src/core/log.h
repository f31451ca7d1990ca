/* Structured logging: one JSON object per line on stderr. The level is tested
 * before anything is formatted. Never pass a secret: mask it at the source. */
#ifndef GW_CORE_LOG_H
#define GW_CORE_LOG_H

#include <stdbool.h>

enum gw_log_level {
	GW_LOG_DEBUG = 0,
	GW_LOG_INFO,
	GW_LOG_WARN,
	GW_LOG_ERROR,
	GW_LOG_OFF,
};

extern enum gw_log_level gw_log_threshold;

/* Set the threshold from a name (debug, info, warn, error, off); GW_EINVAL
 * for an unknown name. */
int gw_log_set_level(const char *name);
/* Write {"ts","level","comp","msg"} as one line. Use GW_LOG instead. */
void gw_log_write(enum gw_log_level lvl, const char *comp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define GW_LOG(lvl, comp, ...)                                   \
	do {                                                         \
		if ((lvl) >= gw_log_threshold)                           \
			gw_log_write((lvl), (comp), __VA_ARGS__);            \
	} while (0)

#define GW_DEBUG(comp, ...) GW_LOG(GW_LOG_DEBUG, comp, __VA_ARGS__)
#define GW_INFO(comp, ...) GW_LOG(GW_LOG_INFO, comp, __VA_ARGS__)
#define GW_WARN(comp, ...) GW_LOG(GW_LOG_WARN, comp, __VA_ARGS__)
#define GW_ERROR(comp, ...) GW_LOG(GW_LOG_ERROR, comp, __VA_ARGS__)

/* Impossible states: always on, abort with the place. */
#define GW_BUG_ON(cond)                                                       \
	do {                                                                      \
		if (cond)                                                             \
			gw_bug(__FILE__, __LINE__, #cond);                                \
	} while (0)
void gw_bug(const char *file, int line, const char *what) __attribute__((noreturn));

#endif
