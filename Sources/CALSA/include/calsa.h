#ifndef SIDEMAN_CALSA_H
#define SIDEMAN_CALSA_H
#include <alsa/asoundlib.h>
#endif
