/* Profiles and virtual lamella (being written). */
