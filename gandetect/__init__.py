"""gandetect: tell real data from GAN-generated and adversarial data by statistical signatures."""

__version__ = "0.1.0"
