#define _GNU_SOURCE
#include "cjack.h"
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>

jack_client_t *sideman_jack_client_open(const char *client_name, jack_options_t options,
                                        jack_status_t *status, const char *server_name) {
    if (server_name != NULL && server_name[0] != '\0') {
        return jack_client_open(client_name, options | JackServerName, status, server_name);
    }
    return jack_client_open(client_name, options & ~JackServerName, status);
}

static volatile int sideman_quiet = 0;

static void sideman_error_line(const char *line) {
    if (!sideman_quiet) fprintf(stderr, "jack: %s\n", line);
}

static void sideman_info_line(const char *line) { (void)line; }

void sideman_jack_set_quiet(int quiet) {
    sideman_quiet = quiet;
    jack_set_error_function(sideman_error_line);
    jack_set_info_function(sideman_info_line);
}

typedef void (*sideman_probe_fn)(int);
static sideman_probe_fn sideman_probe = NULL;

int sideman_jack_probe_resolve(void) {
    sideman_probe = (sideman_probe_fn)dlsym(RTLD_DEFAULT, "sideman_alloc_probe");
    return sideman_probe != NULL;
}

void sideman_jack_probe_enter(void) {
    if (sideman_probe) sideman_probe(1);
}

void sideman_jack_probe_leave(void) {
    if (sideman_probe) sideman_probe(0);
}
