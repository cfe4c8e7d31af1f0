// Placeholder: the codec shims land with the image I/O work (issue 2).
#pragma once
int ccodecs_placeholder(void);
