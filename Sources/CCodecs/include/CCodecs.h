// Umbrella header of the codec shims: one header per codec, all functions prefixed `ccodecs_`.
#pragma once
#include "ccodecs_common.h"
#include "ccodecs_png.h"
#include "ccodecs_jpeg.h"
#include "ccodecs_tiff.h"
