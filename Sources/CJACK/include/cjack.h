#ifndef SIDEMAN_CJACK_H
#define SIDEMAN_CJACK_H
#include <jack/jack.h>
#include <jack/midiport.h>
#endif
