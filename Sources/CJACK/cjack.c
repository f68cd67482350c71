#include "cjack.h"
