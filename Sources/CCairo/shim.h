// Cairo for Swift (Debian's libcairo2-dev): the image surface and PNG writer, and the PDF
// surface, from which `wgf plot --format pdf|png` draws the same calls.
#include <cairo.h>
#include <cairo-pdf.h>
