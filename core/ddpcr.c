/* core/ddpcr.c: placeholder until implemented. */
