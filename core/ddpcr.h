/* core/ddpcr.h: placeholder until implemented. */
