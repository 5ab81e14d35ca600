/** Fashion-MNIST's ten labels, in label order. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

export const CLASS_COUNT = FASHION_MNIST_CLASSES.length;

export const IMAGE_SIZE = 28;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;

/** Images as bytes (0..255, row-major 28×28) and labels (0..9); converted to floats a batch at a time. */
export interface LabelledImages {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}
